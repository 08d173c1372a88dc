using System.Text.Json;

namespace DaprShop.Sidecar.Components.State;

/// <summary>
/// How Dapr's SQL stores keep a value: bytes that are one JSON document are stored as that JSON; anything else
/// as base64 with a binary flag, so every value reads back as the bytes that were written.
/// </summary>
internal static class StoredValues
{
    public static bool IsJson(ReadOnlySpan<byte> bytes)
    {
        if (bytes.IsEmpty || !MayStartJson(bytes))
        {
            return false;
        }
        var reader = new Utf8JsonReader(bytes, new JsonReaderOptions { CommentHandling = JsonCommentHandling.Disallow });
        try
        {
            return reader.Read() && reader.TrySkip() && !reader.Read();
        }
        catch (JsonException)
        {
            return false;
        }
    }

    // Binary values (protobuf workflow history, actor state) are rejected on their first byte, not by a parse that
    // throws: an exception per write was a measurable share of the sidecar's CPU.
    private static readonly System.Buffers.SearchValues<byte> JsonWhitespace = System.Buffers.SearchValues.Create(" \t\r\n"u8);

    private static bool MayStartJson(ReadOnlySpan<byte> bytes)
    {
        var i = bytes.IndexOfAnyExcept(JsonWhitespace);
        return i >= 0 && bytes[i] is (byte)'{' or (byte)'[' or (byte)'"' or (byte)'-' or (>= (byte)'0' and <= (byte)'9') or (byte)'t' or (byte)'f' or (byte)'n';
    }

    /// <summary>The value as JSON text when the bytes are exactly one UTF-8 JSON document (so the text maps back to the same bytes).</summary>
    public static bool TryGetJsonText(byte[] bytes, out string text)
    {
        text = "";
        if (!IsJson(bytes))
        {
            return false;
        }
        try
        {
            text = StrictUtf8.GetString(bytes);
            return true;
        }
        catch (System.Text.DecoderFallbackException)
        {
            return false;
        }
    }

    private static readonly System.Text.UTF8Encoding StrictUtf8 = new(encoderShouldEmitUTF8Identifier: false, throwOnInvalidBytes: true);

    /// <summary>Runs <paramref name="cleanup"/> every <paramref name="interval"/> until disposed; failures are logged, not fatal.</summary>
    public static IAsyncDisposable? ScheduleCleanup(TimeSpan interval, Func<CancellationToken, Task<long>> cleanup, ILogger logger)
    {
        if (interval <= TimeSpan.Zero)
        {
            return null;
        }
        return new CleanupLoop(interval, cleanup, logger);
    }

    private sealed class CleanupLoop : IAsyncDisposable
    {
        private readonly CancellationTokenSource _stop = new();
        private readonly Task _loop;

        public CleanupLoop(TimeSpan interval, Func<CancellationToken, Task<long>> cleanup, ILogger logger)
        {
            _loop = Task.Run(async () =>
            {
                using var timer = new PeriodicTimer(interval);
                try
                {
                    while (await timer.WaitForNextTickAsync(_stop.Token))
                    {
                        try
                        {
                            var removed = await cleanup(_stop.Token);
                            logger.LogDebug("Removed {Count} expired state rows", removed);
                        }
                        catch (Exception ex) when (ex is not OperationCanceledException)
                        {
                            logger.LogWarning("Removing expired state rows failed: {Error}", ex.Message);
                        }
                    }
                }
                catch (OperationCanceledException)
                {
                }
            });
        }

        public async ValueTask DisposeAsync()
        {
            await _stop.CancelAsync();
            await _loop;
            _stop.Dispose();
        }
    }
}
