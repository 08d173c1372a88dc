using System.Globalization;
using System.Text.Json;
using System.Text.Json.Nodes;

namespace DaprShop.Sidecar.Resources;

/// <summary>
/// The subset of CEL that Dapr's pub/sub routing rules use, evaluated against the CloudEvent as <c>event</c>:
/// field paths (<c>event.type</c>, <c>event.data.items[0].sku</c>), string, number, bool and null literals, lists,
/// <c>== != &lt; &lt;= &gt; &gt;= in</c>, <c>&amp;&amp; || !</c>, parentheses, <c>has(event.x)</c>, <c>size(x)</c> and the
/// string methods <c>startsWith</c>, <c>endsWith</c>, <c>contains</c>. An expression that cannot be evaluated
/// (a missing field compared, a type mismatch) does not match, as a CEL evaluation error does not in daprd.
/// </summary>
public static class RuleMatcher
{
    public static void Validate(string expression, Func<string, Exception> error)
    {
        try
        {
            Compile(expression);
        }
        catch (FormatException ex)
        {
            throw error(ex.Message);
        }
    }

    public static Func<JsonObject, bool> Compile(string expression)
    {
        var parser = new Parser(Tokenize(expression), expression);
        var node = parser.ParseExpression();
        parser.ExpectEnd();
        return ce =>
        {
            try
            {
                return node(ce) is true;
            }
            catch (EvaluationException)
            {
                return false;
            }
        };
    }

    private sealed class EvaluationException : Exception;

    private delegate object? Node(JsonObject ce);

    private sealed record Token(string Kind, string Text);

    private static List<Token> Tokenize(string s)
    {
        var tokens = new List<Token>();
        var i = 0;
        while (i < s.Length)
        {
            var c = s[i];
            if (char.IsWhiteSpace(c))
            {
                i++;
                continue;
            }
            if (c is '"' or '\'')
            {
                var sb = new System.Text.StringBuilder();
                i++;
                while (i < s.Length && s[i] != c)
                {
                    if (s[i] == '\\' && i + 1 < s.Length)
                    {
                        i++;
                        sb.Append(s[i] switch { 'n' => '\n', 't' => '\t', _ => s[i] });
                    }
                    else
                    {
                        sb.Append(s[i]);
                    }
                    i++;
                }
                if (i >= s.Length)
                {
                    throw new FormatException($"unterminated string in '{s}'");
                }
                i++;
                tokens.Add(new Token("str", sb.ToString()));
                continue;
            }
            if (char.IsDigit(c) || (c == '-' && i + 1 < s.Length && char.IsDigit(s[i + 1]) && (tokens.Count == 0 || tokens[^1].Kind == "op")))
            {
                var start = i++;
                while (i < s.Length && (char.IsDigit(s[i]) || s[i] == '.' || s[i] == 'e' || s[i] == 'E'))
                {
                    i++;
                }
                if (i < s.Length && s[i] is 'u' or 'U')
                {
                    i++; // CEL's unsigned suffix
                }
                tokens.Add(new Token("num", s[start..i].TrimEnd('u', 'U')));
                continue;
            }
            if (char.IsLetter(c) || c == '_')
            {
                var start = i;
                while (i < s.Length && (char.IsLetterOrDigit(s[i]) || s[i] == '_'))
                {
                    i++;
                }
                var word = s[start..i];
                tokens.Add(new Token(word is "in" ? "op" : "id", word));
                continue;
            }
            var two = i + 1 < s.Length ? s.Substring(i, 2) : "";
            if (two is "==" or "!=" or "<=" or ">=" or "&&" or "||")
            {
                tokens.Add(new Token("op", two));
                i += 2;
                continue;
            }
            if ("<>!().,[]".Contains(c, StringComparison.Ordinal))
            {
                tokens.Add(new Token("op", c.ToString()));
                i++;
                continue;
            }
            throw new FormatException($"unexpected character '{c}' in '{s}'");
        }
        return tokens;
    }

    private sealed class Parser(List<Token> tokens, string source)
    {
        private int _pos;

        private Token? Peek => _pos < tokens.Count ? tokens[_pos] : null;

        private bool Accept(string op)
        {
            if (Peek is { Kind: "op" } t && t.Text == op)
            {
                _pos++;
                return true;
            }
            return false;
        }

        private void Expect(string op)
        {
            if (!Accept(op))
            {
                throw new FormatException($"expected '{op}' in '{source}'");
            }
        }

        public void ExpectEnd()
        {
            if (Peek is not null)
            {
                throw new FormatException($"unexpected '{Peek.Text}' in '{source}'");
            }
        }

        public Node ParseExpression()
        {
            var left = ParseAnd();
            while (Accept("||"))
            {
                var l = left;
                var r = ParseAnd();
                left = ce => Truth(l(ce)) || Truth(r(ce));
            }
            return left;
        }

        private Node ParseAnd()
        {
            var left = ParseUnary();
            while (Accept("&&"))
            {
                var l = left;
                var r = ParseUnary();
                left = ce => Truth(l(ce)) && Truth(r(ce));
            }
            return left;
        }

        private Node ParseUnary()
        {
            if (Accept("!"))
            {
                var inner = ParseUnary();
                return ce => !Truth(inner(ce));
            }
            return ParseComparison();
        }

        private Node ParseComparison()
        {
            var left = ParsePostfix();
            if (Peek is { Kind: "op" } t && t.Text is "==" or "!=" or "<" or "<=" or ">" or ">=" or "in")
            {
                _pos++;
                var right = ParsePostfix();
                var op = t.Text;
                return ce => Compare(op, left(ce), right(ce));
            }
            return left;
        }

        private Node ParsePostfix()
        {
            var node = ParsePrimary();
            while (true)
            {
                if (Accept("."))
                {
                    var name = Peek is { Kind: "id" } id ? id.Text : throw new FormatException($"expected a field name in '{source}'");
                    _pos++;
                    if (Accept("("))
                    {
                        var args = ParseArgs();
                        var target = node;
                        node = ce => Method(name, target(ce), args.Select(a => a(ce)).ToList());
                    }
                    else
                    {
                        var target = node;
                        node = ce => Field(target(ce), name);
                    }
                }
                else if (Accept("["))
                {
                    var index = ParseExpression();
                    Expect("]");
                    var target = node;
                    node = ce => Index(target(ce), index(ce));
                }
                else
                {
                    return node;
                }
            }
        }

        private List<Node> ParseArgs()
        {
            var args = new List<Node>();
            if (Accept(")"))
            {
                return args;
            }
            do
            {
                args.Add(ParseExpression());
            }
            while (Accept(","));
            Expect(")");
            return args;
        }

        private Node ParsePrimary()
        {
            var t = Peek ?? throw new FormatException($"unexpected end of '{source}'");
            _pos++;
            switch (t.Kind)
            {
                case "str":
                    return _ => t.Text;
                case "num":
                    var n = double.Parse(t.Text, NumberStyles.Float, CultureInfo.InvariantCulture);
                    return _ => n;
                case "id" when t.Text == "true":
                    return _ => true;
                case "id" when t.Text == "false":
                    return _ => false;
                case "id" when t.Text == "null":
                    return _ => null;
                case "id" when t.Text == "event":
                    return ce => ce;
                case "id" when t.Text is "has" or "size":
                    Expect("(");
                    var fn = t.Text;
                    var arg = fn == "has" ? ParseHasArgument() : ParseExpression();
                    Expect(")");
                    return fn == "has" ? arg : ce => Size(arg(ce));
                case "op" when t.Text == "(":
                    var inner = ParseExpression();
                    Expect(")");
                    return inner;
                case "op" when t.Text == "[":
                    var items = new List<Node>();
                    if (!Accept("]"))
                    {
                        do
                        {
                            items.Add(ParseExpression());
                        }
                        while (Accept(","));
                        Expect("]");
                    }
                    return ce => items.Select(i => i(ce)).ToList();
                default:
                    throw new FormatException($"unexpected '{t.Text}' in '{source}': fields are read from 'event'");
            }
        }

        // has(event.a.b): true when the last field exists on its parent.
        private Node ParseHasArgument()
        {
            var start = _pos;
            var node = ParsePostfix();
            var last = tokens[_pos - 1];
            if (_pos - start < 3 || tokens[_pos - 2].Text != "." || last.Kind != "id")
            {
                throw new FormatException($"has() takes a field selection such as has(event.data.x) in '{source}'");
            }
            _ = node;
            var parentTokens = tokens.GetRange(start, _pos - start - 2);
            var parent = new Parser(parentTokens, source).ParsePostfix();
            var field = last.Text;
            return ce =>
            {
                try
                {
                    return parent(ce) is JsonObject o && o.ContainsKey(field);
                }
                catch (EvaluationException)
                {
                    return false;
                }
            };
        }
    }

    private static bool Truth(object? value) => value is bool b ? b : throw new EvaluationException();

    // Typed as object on every arm: JsonNode's implicit conversions would otherwise wrap the primitives again.
    private static object? Unwrap(JsonNode? node) => node switch
    {
        null => null,
        JsonValue v => v.GetValueKind() switch
        {
            JsonValueKind.String => (object)v.GetValue<string>(),
            JsonValueKind.Number => (object)v.GetValue<double>(),
            JsonValueKind.True => (object)true,
            JsonValueKind.False => (object)false,
            _ => null,
        },
        _ => (object)node,
    };

    private static object? Field(object? target, string name) =>
        target is JsonObject o && o.TryGetPropertyValue(name, out var v) ? Unwrap(v) : throw new EvaluationException();

    private static object? Index(object? target, object? index) => (target, index) switch
    {
        (JsonArray a, double d) when d >= 0 && d < a.Count && d == Math.Floor(d) => Unwrap(a[(int)d]),
        (JsonObject o, string k) when o.TryGetPropertyValue(k, out var v) => Unwrap(v),
        (List<object?> l, double d) when d >= 0 && d < l.Count => l[(int)d],
        _ => throw new EvaluationException(),
    };

    private static object Size(object? value) => value switch
    {
        string s => (double)s.Length,
        JsonArray a => (double)a.Count,
        JsonObject o => (double)o.Count,
        List<object?> l => (double)l.Count,
        _ => throw new EvaluationException(),
    };

    private static object Method(string name, object? target, List<object?> args) => (name, target, args) switch
    {
        ("startsWith", string s, [string p]) => s.StartsWith(p, StringComparison.Ordinal),
        ("endsWith", string s, [string p]) => s.EndsWith(p, StringComparison.Ordinal),
        ("contains", string s, [string p]) => s.Contains(p, StringComparison.Ordinal),
        ("size", var t, []) => Size(t),
        _ => throw new EvaluationException(),
    };

    private static bool Compare(string op, object? left, object? right)
    {
        if (op == "in")
        {
            return right switch
            {
                List<object?> list => list.Any(i => Equal(left, i)),
                JsonArray array => array.Any(i => Equal(left, Unwrap(i))),
                JsonObject obj when left is string key => obj.ContainsKey(key),
                _ => throw new EvaluationException(),
            };
        }
        if (op is "==" or "!=")
        {
            return Equal(left, right) == (op == "==");
        }
        int cmp = (left, right) switch
        {
            (double a, double b) => a.CompareTo(b),
            (string a, string b) => string.CompareOrdinal(a, b),
            _ => throw new EvaluationException(),
        };
        return op switch { "<" => cmp < 0, "<=" => cmp <= 0, ">" => cmp > 0, _ => cmp >= 0 };
    }

    private static bool Equal(object? a, object? b) => (a, b) switch
    {
        (null, null) => true,
        (double x, double y) => x == y,
        (string x, string y) => x == y,
        (bool x, bool y) => x == y,
        (JsonNode x, JsonNode y) => JsonNode.DeepEquals(x, y),
        _ => false,
    };
}
