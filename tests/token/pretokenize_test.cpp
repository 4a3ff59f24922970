// The split into pieces, on cases whose answer follows directly from the patterns.
#include <llm/token/pretokenize.hpp>

#include <catch2/catch.hpp>

#include <string>
#include <vector>

namespace {

std::vector<std::string> pieces(llm::token::pattern p, std::string_view text)
{
    std::vector<std::string> out;
    llm::token::pretokenize(p, text, [&](std::string_view piece) { out.emplace_back(piece); });
    return out;
}

using v = std::vector<std::string>;
constexpr auto cl100k = llm::token::pattern::cl100k;
constexpr auto o200k = llm::token::pattern::o200k;

} // namespace

TEST_CASE("cl100k splits words, numbers, punctuation and white space as its pattern does", "[token][split]")
{
    CHECK(pieces(cl100k, "Hello world") == v{"Hello", " world"});
    CHECK(pieces(cl100k, "don't I'M") == v{"don", "'t", " I", "'M"});
    CHECK(pieces(cl100k, "'sad") == v{"'s", "ad"});
    CHECK(pieces(cl100k, "1234567") == v{"123", "456", "7"});
    CHECK(pieces(cl100k, " 42") == v{" ", "42"});
    CHECK(pieces(cl100k, "a...!? b") == v{"a", "...!?", " b"});
    CHECK(pieces(cl100k, "x ...\n\ny") == v{"x", " ...\n\n", "y"});
    CHECK(pieces(cl100k, "x  \n  y") == v{"x", "  \n", " ", " y"});
    CHECK(pieces(cl100k, "x   y") == v{"x", "  ", " y"});
    CHECK(pieces(cl100k, "x   ") == v{"x", "   "});
    CHECK(pieces(cl100k, "\tword") == v{"\tword"});
    CHECK(pieces(cl100k, "a\r\nb") == v{"a", "\r\n", "b"});
    CHECK(pieces(cl100k, "\xc2\xa0\xc2\xa0x") == v{"\xc2\xa0", "\xc2\xa0x"}); // NBSP is white space
    CHECK(pieces(cl100k, "").empty());
}

TEST_CASE("o200k splits words at case changes and keeps contractions and slashes attached", "[token][split]")
{
    CHECK(pieces(o200k, "Hello World") == v{"Hello", " World"});
    CHECK(pieces(o200k, "camelCaseWORDSthen") == v{"camel", "Case", "WORDSthen"});
    CHECK(pieces(o200k, "helloWORLD") == v{"hello", "WORLD"});
    CHECK(pieces(o200k, "don't I'M") == v{"don't", " I'M"});
    CHECK(pieces(o200k, "a//\nb") == v{"a", "//\n", "b"});
    CHECK(pieces(o200k, "x / y") == v{"x", " /", " y"});
    CHECK(pieces(o200k, "1234567") == v{"123", "456", "7"});
    CHECK(pieces(o200k, "x  \n  y") == v{"x", "  \n", " ", " y"});
}
