namespace DaprShop.Storefront.Shopping;

/// <summary>The countries the shop delivers to (ISO 3166 alpha-2, as ordering expects).</summary>
public static class Countries
{
    public static readonly IReadOnlyList<(string Code, string Name)> Delivered =
    [
        ("AT", "Austria"), ("BE", "Belgium"), ("DK", "Denmark"), ("FI", "Finland"), ("FR", "France"), ("DE", "Germany"),
        ("IE", "Ireland"), ("IT", "Italy"), ("LU", "Luxembourg"), ("NL", "Netherlands"), ("NO", "Norway"), ("PL", "Poland"),
        ("PT", "Portugal"), ("ES", "Spain"), ("SE", "Sweden"), ("CH", "Switzerland"), ("GB", "United Kingdom"), ("US", "United States"),
    ];

    public static string NameOf(string code) => Delivered.FirstOrDefault(c => c.Code == code).Name ?? code;
}
