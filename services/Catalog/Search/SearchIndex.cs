using System.Globalization;
using System.Text;
using DaprShop.Catalog.Products;
using DaprShop.Contracts;

namespace DaprShop.Catalog.Search;

/// <summary>A page of a listing: the items and what a client needs to page (total count and pages).</summary>
public sealed record CatalogPage(int Page, int PageSize, int TotalCount, int TotalPages, IReadOnlyList<ProductDto> Items)
{
    public static int PagesFor(int totalCount, int pageSize) => totalCount == 0 ? 0 : (totalCount + pageSize - 1) / pageSize;
}

public sealed record Facet(string Name, int ProductCount);

/// <summary>
/// An immutable snapshot of the whole catalog with a small inverted index for full-text search. The catalog is
/// small (hundreds to a few thousand products), so each replica holds it in memory and rebuilds it when the stored
/// catalog's <see cref="Version"/> moves; queries never touch storage.
/// Relevance is BM25-like without length normalisation: per query term, the best of an exact match and a prefix
/// match (worth half), times the field's weight (name 3, brand 2, category 2, attributes 1, description 1), times the
/// term's inverse document frequency. Every query term must match somewhere.
/// </summary>
public sealed class SearchIndex
{
    private static readonly (Func<Product, string> Text, float Weight)[] Fields =
    [
        (p => p.Name, 3f),
        (p => p.Brand, 2f),
        (p => p.Category, 2f),
        (p => string.Join(' ', p.Attributes.Values), 1f),
        (p => p.Description, 1f),
    ];

    private readonly Product[] _products;
    private readonly Dictionary<string, int> _byId;
    private readonly Dictionary<string, Dictionary<int, float>> _postings = new(StringComparer.Ordinal);
    private readonly string[] _terms;

    public SearchIndex(IEnumerable<Product> products, long version)
    {
        _products = [.. products.OrderBy(p => p.Id, StringComparer.Ordinal)];
        Version = version;
        _byId = new Dictionary<string, int>(StringComparer.Ordinal);
        for (var i = 0; i < _products.Length; i++)
        {
            _byId[_products[i].Id] = i;
            foreach (var (text, weight) in Fields)
            {
                foreach (var term in Tokenize(text(_products[i])))
                {
                    if (!_postings.TryGetValue(term, out var posting))
                    {
                        _postings[term] = posting = [];
                    }
                    posting[i] = posting.GetValueOrDefault(i) + weight;
                }
            }
        }
        _terms = [.. _postings.Keys.Order(StringComparer.Ordinal)];
        Categories = Facets(p => p.Category);
        Brands = Facets(p => p.Brand);
    }

    public static SearchIndex Empty { get; } = new([], 0);

    /// <summary>The stored catalog version this snapshot was built from.</summary>
    public long Version { get; }
    public int Count => _products.Length;
    public IReadOnlyList<Facet> Categories { get; }
    public IReadOnlyList<Facet> Brands { get; }

    public Product? Find(string id) => _byId.TryGetValue(id, out var i) ? _products[i] : null;

    public CatalogPage Query(ListingQuery query)
    {
        var scores = query.Text is null ? null : Score(query.Text);
        IEnumerable<int> candidates = scores is null ? Enumerable.Range(0, _products.Length) : scores.Keys;
        var matches = candidates.Where(i => Matches(_products[i], query)).ToList();
        IOrderedEnumerable<int> ordered = query.Sort switch
        {
            ListingSort.Relevance when scores is not null => matches.OrderByDescending(i => scores[i]).ThenBy(i => _products[i].Name, StringComparer.OrdinalIgnoreCase),
            ListingSort.Price => matches.OrderBy(i => _products[i].Price.Amount),
            ListingSort.PriceDescending => matches.OrderByDescending(i => _products[i].Price.Amount),
            ListingSort.Newest => matches.OrderByDescending(i => _products[i].CreatedAt),
            _ => matches.OrderBy(i => _products[i].Name, StringComparer.OrdinalIgnoreCase),
        };
        // The id breaks every tie, so pages never overlap or skip items.
        var items = ordered.ThenBy(i => _products[i].Id, StringComparer.Ordinal)
            .Skip((int)Math.Min(int.MaxValue, (long)(query.Page - 1) * query.PageSize))
            .Take(query.PageSize)
            .Select(i => _products[i].ToDto())
            .ToList();
        return new CatalogPage(query.Page, query.PageSize, matches.Count, CatalogPage.PagesFor(matches.Count, query.PageSize), items);
    }

    /// <summary>Scores of the products that match every term of <paramref name="text"/>; empty when none do.</summary>
    internal Dictionary<int, float> Score(string text)
    {
        var terms = Tokenize(text).Distinct().ToList();
        Dictionary<int, float>? total = null;
        foreach (var term in terms)
        {
            var termScores = new Dictionary<int, float>();
            void Add(string indexed, float factor)
            {
                var posting = _postings[indexed];
                var idf = (float)Math.Log(1 + (double)_products.Length / posting.Count);
                foreach (var (doc, weight) in posting)
                {
                    var s = weight * idf * factor;
                    if (s > termScores.GetValueOrDefault(doc))
                    {
                        termScores[doc] = s;
                    }
                }
            }
            if (_postings.ContainsKey(term))
            {
                Add(term, 1f);
            }
            // Prefixes of two letters or more match longer words ("head" finds "headphones"), worth half.
            if (term.Length >= 2)
            {
                var start = Array.BinarySearch(_terms, term, StringComparer.Ordinal);
                for (var k = start < 0 ? ~start : start + 1; k < _terms.Length && _terms[k].StartsWith(term, StringComparison.Ordinal); k++)
                {
                    Add(_terms[k], 0.5f);
                }
            }
            if (total is null)
            {
                total = termScores;
            }
            else
            {
                var both = new Dictionary<int, float>();
                foreach (var (doc, s) in total)
                {
                    if (termScores.TryGetValue(doc, out var t))
                    {
                        both[doc] = s + t;
                    }
                }
                total = both;
            }
            if (total.Count == 0)
            {
                break;
            }
        }
        return total ?? [];
    }

    private static bool Matches(Product p, ListingQuery q) =>
        (q.Category is null || string.Equals(p.Category, q.Category, StringComparison.OrdinalIgnoreCase))
        && (q.Brand is null || string.Equals(p.Brand, q.Brand, StringComparison.OrdinalIgnoreCase))
        && (q.MinPrice is null || p.Price.Amount >= q.MinPrice)
        && (q.MaxPrice is null || p.Price.Amount <= q.MaxPrice)
        && (q.InStock is null || p.Available == q.InStock);

    private List<Facet> Facets(Func<Product, string> of) =>
        [.. _products.GroupBy(of, StringComparer.OrdinalIgnoreCase)
            .Select(g => new Facet(of(g.First()), g.Count()))
            .OrderBy(f => f.Name, StringComparer.OrdinalIgnoreCase)];

    /// <summary>Lower-case words without accents ("Crème" and "creme" are one term), split on anything else.</summary>
    public static IEnumerable<string> Tokenize(string text)
    {
        var word = new StringBuilder();
        foreach (var c in text.Normalize(NormalizationForm.FormD))
        {
            if (CharUnicodeInfo.GetUnicodeCategory(c) == UnicodeCategory.NonSpacingMark)
            {
                continue;
            }
            if (char.IsLetterOrDigit(c))
            {
                word.Append(char.ToLowerInvariant(c));
            }
            else if (word.Length > 0)
            {
                yield return word.ToString();
                word.Clear();
            }
        }
        if (word.Length > 0)
        {
            yield return word.ToString();
        }
    }
}
