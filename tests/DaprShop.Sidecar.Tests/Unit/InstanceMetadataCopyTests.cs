using System.Reflection;
using DaprShop.Sidecar.Workflows;
using FluentAssertions;

namespace DaprShop.Sidecar.Tests.Unit;

public sealed class InstanceMetadataCopyTests
{
    [Fact]
    public void A_copy_of_an_instances_metadata_keeps_every_field()
    {
        var original = new InstanceMetadata();
        var properties = typeof(InstanceMetadata).GetProperties(BindingFlags.Public | BindingFlags.Instance).Where(p => p.CanWrite).ToList();
        foreach (var p in properties)
        {
            p.SetValue(original, Sample(p.PropertyType, p.Name));
        }

        var copy = WorkflowEngine.Copy(original);

        foreach (var p in properties)
        {
            p.GetValue(copy).Should().BeEquivalentTo(p.GetValue(original), $"{p.Name} is copied (a lost PurgeAt once kept finished child workflows for ever)");
        }
        copy.Inbox.Should().NotBeSameAs(original.Inbox, "lists are copied, not shared");
        copy.Outbox.Should().NotBeSameAs(original.Outbox);
    }

    private static object Sample(Type type, string name) => type switch
    {
        _ when type == typeof(string) => name + "-value",
        _ when type == typeof(int) => 3,
        _ when type == typeof(long) => 7L,
        _ when type == typeof(bool) => true,
        _ when type == typeof(DateTime) || type == typeof(DateTime?) => new DateTime(2026, 12, 3, 12, 0, 0, DateTimeKind.Utc).AddMinutes(name.Length),
        _ when type == typeof(List<long>) => new List<long> { 1, 2 },
        _ when type.IsGenericType && type.GetGenericTypeDefinition() == typeof(List<>) => Activator.CreateInstance(type)!,
        _ when Nullable.GetUnderlyingType(type) is { } inner => Sample(inner, name),
        _ when type.IsEnum => Enum.GetValues(type).GetValue(1)!,
        _ => throw new NotSupportedException($"add a sample for {type} ({name})"),
    };
}
