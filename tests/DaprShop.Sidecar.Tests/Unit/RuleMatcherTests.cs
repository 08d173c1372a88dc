using System.Text.Json.Nodes;
using DaprShop.Sidecar.Resources;
using FluentAssertions;

namespace DaprShop.Sidecar.Tests.Unit;

public sealed class RuleMatcherTests
{
    private static readonly JsonObject Event = JsonNode.Parse("""
        {"type":"widget","source":"shop","data":{"price":150,"tags":["premium","new"],"name":"Gizmo","stock":{"warehouse":3}}}
        """)!.AsObject();

    [Theory]
    [InlineData("event.type == \"widget\"", true)]
    [InlineData("event.type == 'gadget'", false)]
    [InlineData("event.type != 'gadget'", true)]
    [InlineData("event.data.price > 100", true)]
    [InlineData("event.data.price >= 150 && event.data.price < 151", true)]
    [InlineData("event.data.price > 100 && event.data.tags[0] == 'premium'", true)]
    [InlineData("event.data.tags[1] == 'premium' || event.source == 'shop'", true)]
    [InlineData("!(event.data.price > 100)", false)]
    [InlineData("'new' in event.data.tags", true)]
    [InlineData("event.type in ['a', 'widget']", true)]
    [InlineData("has(event.data.stock)", true)]
    [InlineData("has(event.data.missing)", false)]
    [InlineData("event.data.name.startsWith('Giz')", true)]
    [InlineData("event.data.name.endsWith('x')", false)]
    [InlineData("event.data.name.contains('zm')", true)]
    [InlineData("size(event.data.tags) == 2", true)]
    [InlineData("event.data.stock.warehouse == 3", true)]
    [InlineData("event.data.missing == 3", false)]
    [InlineData("event.data.price == 'text'", false)]
    public void Rules_evaluate_against_the_cloud_event(string expression, bool expected)
    {
        RuleMatcher.Compile(expression)(Event).Should().Be(expected);
    }

    [Theory]
    [InlineData("event.type ==")]
    [InlineData("event.type == 'unterminated")]
    [InlineData("data.price > 1")]
    [InlineData("event.type === 'x'")]
    public void Malformed_rules_are_refused(string expression)
    {
        var act = () => RuleMatcher.Compile(expression);
        act.Should().Throw<FormatException>();
    }
}
