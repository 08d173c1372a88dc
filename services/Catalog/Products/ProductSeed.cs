using System.Globalization;
using DaprShop.Contracts;

namespace DaprShop.Catalog.Products;

/// <summary>
/// The seeded catalog: a pure function of the product count, so every replica and every run produce the same
/// products with the same ids (<c>p-0001</c>...), names, prices and attributes. No <see cref="Random"/>: its
/// sequence for a seed is not promised across .NET versions.
/// </summary>
public static class ProductSeed
{
    public const string Currency = "EUR";
    public static readonly DateTimeOffset Epoch = new(2025, 1, 1, 0, 0, 0, TimeSpan.Zero);

    private sealed record CategorySeed(string Name, long BasePrice, string[] Brands, string[] Nouns, string[] Materials);

    private static readonly CategorySeed[] Categories =
    [
        new("Headphones", 4_900, ["Sonora", "Auralis", "Beatline", "Quietude"], ["Headphones", "Earbuds", "Headset", "Earphones"], ["plastic", "aluminium", "leather"]),
        new("Laptops", 79_900, ["Lumen", "Corvex", "Nimbus", "Stratos"], ["Laptop", "Ultrabook", "Notebook", "Workstation"], ["aluminium", "magnesium", "carbon"]),
        new("Smartphones", 39_900, ["Pulse", "Orbit", "Nimbus", "Vanta"], ["Smartphone", "Phone", "Phablet"], ["glass", "aluminium", "ceramic"]),
        new("Cameras", 49_900, ["Optix", "Lumen", "Framewell", "Apertura"], ["Camera", "Mirrorless Camera", "Action Camera", "Lens"], ["magnesium", "plastic", "metal"]),
        new("Kitchen", 2_900, ["Casa Verde", "Ironleaf", "Brio", "Cucina"], ["Kettle", "Toaster", "Blender", "Coffee Grinder", "Pan"], ["steel", "cast iron", "ceramic"]),
        new("Furniture", 14_900, ["Nordhem", "Oakridge", "Linea", "Hygge"], ["Chair", "Desk", "Bookshelf", "Sofa", "Lamp"], ["oak", "walnut", "steel"]),
        new("Sports", 3_900, ["Stride", "Peakform", "Tempo", "Ridgeline"], ["Running Shoes", "Yoga Mat", "Dumbbell Set", "Water Bottle"], ["mesh", "rubber", "steel"]),
        new("Books", 1_290, ["Inkwell Press", "Northwind Books", "Paperlane", "Folio"], ["Novel", "Cookbook", "Guide", "Atlas", "Anthology"], ["paperback", "hardcover", "cloth"]),
        new("Toys", 1_990, ["Playforge", "Tinkerbox", "Kidora", "Brickly"], ["Building Set", "Puzzle", "Robot Kit", "Board Game"], ["wood", "plastic", "cardboard"]),
        new("Garden", 2_490, ["Greenthumb", "Ironleaf", "Bloomwell", "Terra"], ["Hose", "Shears", "Planter", "Lawn Mower"], ["steel", "terracotta", "plastic"]),
        new("Clothing", 2_990, ["Northline", "Urbanist", "Woolcraft", "Tidal"], ["Jacket", "Sweater", "T-Shirt", "Raincoat", "Scarf"], ["cotton", "wool", "linen"]),
        new("Beauty", 1_490, ["Velour", "Purea", "Lumina", "Botanique"], ["Face Cream", "Shampoo", "Perfume", "Serum"], ["glass", "aluminium", "bamboo"]),
    ];

    private static readonly string[] Adjectives =
    [
        "Classic", "Compact", "Pro", "Ultra", "Essential", "Deluxe", "Eco", "Smart", "Vintage", "Modern", "Travel", "Premium",
        "Lite", "Max", "Studio", "Urban", "Nordic", "Silent", "Rapid", "Signature",
    ];

    private static readonly string[] Colors = ["black", "white", "silver", "navy", "forest green", "sand", "red", "graphite"];

    public static int CategoryCount => Categories.Length;

    public static string IdOf(int number) => $"p-{number.ToString("0000", CultureInfo.InvariantCulture)}";

    public static IReadOnlyList<Product> Generate(int count)
    {
        var products = new List<Product>(count);
        for (var i = 0; i < count; i++)
        {
            products.Add(Create(i));
        }
        return products;
    }

    private static Product Create(int i)
    {
        var category = Categories[i % Categories.Length];
        var round = i / Categories.Length;
        var h = Mix((ulong)i + 1);
        var noun = category.Nouns[round % category.Nouns.Length];
        var brand = category.Brands[(round / category.Nouns.Length + Pick(h, 3)) % category.Brands.Length];
        // The adjective cycles with the round so that (brand, adjective, noun) stays unique within a category.
        var adjective = Adjectives[(round / category.Nouns.Length) % Adjectives.Length];
        var color = Colors[Pick(h >> 8, Colors.Length)];
        var material = category.Materials[Pick(h >> 16, category.Materials.Length)];
        var series = 100 + round;
        var name = $"{brand} {adjective} {noun} {series.ToString(CultureInfo.InvariantCulture)}";

        // Price: the category's base times a factor between 0.6 and 3.0, ending in 99 cents as shops like it.
        var factor = 60 + Pick(h >> 24, 241);
        var amount = Math.Max(199, category.BasePrice * factor / 100 / 100 * 100 + 99);
        var warrantyYears = 1 + Pick(h >> 32, 3);
        var weight = 100 + Pick(h >> 40, 4_900);

        var description =
            $"The {adjective.ToLowerInvariant()} {noun.ToLowerInvariant()} from {brand}, in {color} {material}. " +
            $"A {category.Name.ToLowerInvariant()} favourite: {Tagline(h)} Comes with a {warrantyYears.ToString(CultureInfo.InvariantCulture)}-year warranty.";

        return new Product(
            Id: IdOf(i + 1),
            Name: name,
            Description: description,
            Category: category.Name,
            Brand: brand,
            Price: new Money(amount, Currency),
            Attributes: new Dictionary<string, string>(StringComparer.Ordinal)
            {
                ["color"] = color,
                ["material"] = material,
                ["warrantyYears"] = warrantyYears.ToString(CultureInfo.InvariantCulture),
                ["weightGrams"] = weight.ToString(CultureInfo.InvariantCulture),
            },
            Available: true,
            CreatedAt: Epoch.AddHours(i),
            Version: 1);
    }

    private static string Tagline(ulong h) => ((h >> 48) % 6) switch
    {
        0 => "built to last and easy to love.",
        1 => "lightweight, durable and made for every day.",
        2 => "designed in Europe with repairable parts.",
        3 => "a thoughtful gift for anyone who cares about quality.",
        4 => "sustainably sourced and carefully finished.",
        _ => "the reliable choice at a fair price.",
    };

    private static int Pick(ulong h, int n) => (int)(h % (ulong)n);

    /// <summary>SplitMix64's finaliser: a well-spread hash of the product's index.</summary>
    private static ulong Mix(ulong x)
    {
        x += 0x9E3779B97F4A7C15UL;
        x = (x ^ (x >> 30)) * 0xBF58476D1CE4E5B9UL;
        x = (x ^ (x >> 27)) * 0x94D049BB133111EBUL;
        return x ^ (x >> 31);
    }
}
