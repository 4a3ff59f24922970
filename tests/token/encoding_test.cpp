// Loading rank files (and refusing bad ones clearly), decoding, special tokens, and bytes that
// are not UTF-8.
#include "corpus.hpp"
#include "encodings.hpp"

#include <llm/token/encoding.hpp>

#include <support/temp_dir.hpp>

#include <catch2/catch.hpp>

#include <algorithm>
#include <fstream>
#include <iterator>
#include <random>

using llm::errc;
using llm::token::encoding;
using llm::token::rank;
using llm::token::rank_table;
using llm::token::special_tokens;

namespace {

// A small valid rank file: the 256 single bytes, then a few merges.
std::string byte_level_ranks(const std::vector<std::string>& merges)
{
    constexpr char alphabet[] = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";
    const auto base64 = [&](const std::string& bytes) {
        std::string out;
        for (std::size_t i = 0; i < bytes.size(); i += 3) {
            const auto byte = [&](std::size_t k) -> std::uint32_t {
                return k < bytes.size() ? static_cast<unsigned char>(bytes[k]) : 0u;
            };
            const std::uint32_t v = (byte(i) << 16) | (byte(i + 1) << 8) | byte(i + 2);
            out += alphabet[(v >> 18) & 63];
            out += alphabet[(v >> 12) & 63];
            out += i + 1 < bytes.size() ? alphabet[(v >> 6) & 63] : '=';
            out += i + 2 < bytes.size() ? alphabet[v & 63] : '=';
        }
        return out;
    };
    std::string out;
    rank r = 0;
    for (int b = 0; b < 256; ++b)
        out += base64(std::string(1, static_cast<char>(b))) + " " + std::to_string(r++) + "\n";
    for (const auto& m : merges)
        out += base64(m) + " " + std::to_string(r++) + "\n";
    return out;
}

} // namespace

TEST_CASE("both encodings load from the standard rank files", "[token][load]")
{
    CHECK(llm::test::cl100k().name() == "cl100k_base");
    CHECK(llm::test::o200k().name() == "o200k_base");
    CHECK(llm::test::cl100k().encode("hello world") == std::vector<rank>{15339, 1917});
    CHECK(llm::test::o200k().encode("hello world") == std::vector<rank>{24912, 2375});
}

TEST_CASE("a missing, malformed or foreign rank file is refused with the file and line", "[token][load]")
{
    llm::test::temp_dir dir;

    auto missing = encoding::load("cl100k_base", dir.file("nowhere.tiktoken"));
    REQUIRE_FALSE(missing);
    CHECK(missing.error() == errc::invalid_configuration);
    CHECK_THAT(missing.error().message, Catch::Contains("nowhere.tiktoken") && Catch::Contains("cannot open"));

    auto unknown = encoding::load("p50k_base", llm::test::rank_file("cl100k_base"));
    REQUIRE_FALSE(unknown);
    CHECK_THAT(unknown.error().message, Catch::Contains("unknown encoding 'p50k_base'"));

    auto foreign = encoding::load("cl100k_base", llm::test::rank_file("o200k_base"));
    REQUIRE_FALSE(foreign);
    CHECK_THAT(foreign.error().message, Catch::Contains("another encoding"));

    // The right size, the wrong tokens: two ranks swapped.
    {
        std::ifstream in(llm::test::rank_file("cl100k_base"), std::ios::binary);
        std::string file((std::istreambuf_iterator<char>(in)), std::istreambuf_iterator<char>());
        const auto at = file.find(" 15339\n");
        const auto other = file.find(" 15340\n");
        REQUIRE(at != std::string::npos);
        REQUIRE(other != std::string::npos);
        file.replace(other, 7, " 15339\n");
        file.replace(at, 7, " 15340\n");
        const auto path = dir.file("swapped.tiktoken");
        std::ofstream(path, std::ios::binary) << file;
        auto swapped = encoding::load("cl100k_base", path);
        REQUIRE_FALSE(swapped);
        CHECK_THAT(swapped.error().message,
                   Catch::Contains("swapped.tiktoken is not cl100k_base's") && Catch::Contains("15339"));
    }

    const std::string good = byte_level_ranks({});
    const std::vector<std::pair<std::string, std::string>> broken = {
        {"", "holds no tokens"},
        {good + "QUJD\n", "line 257: no token and rank"},
        {good + "QUJD x1\n", "line 257: the rank is not a number"},
        {good + "QUJD 99999999999\n", "line 257: the rank is not a number"},
        {good + "QU*D 300\n", "line 257: the token is not valid base64"},
        {good + "QUJ 300\n", "line 257: the token is not valid base64"},
        {good + "QQ== 300\n", "a token appears twice"},
        {good + "QUJD 5\n", "rank 5 appears twice"},
        {byte_level_ranks({}).substr(7), "no token for the single byte 0"},
        {"QUJD 4000000000\n", "is it a rank file"},
    };
    for (const auto& [contents, why] : broken) {
        auto parsed = rank_table::parse(contents, "bad.tiktoken");
        REQUIRE_FALSE(parsed);
        CHECK(parsed.error() == errc::invalid_configuration);
        CHECK_THAT(parsed.error().message, Catch::Contains("bad.tiktoken") && Catch::Contains(why));
    }

    // CRLF line ends and a blank last line are fine.
    std::string crlf;
    for (const char c : byte_level_ranks({"ab"})) {
        if (c == '\n')
            crlf += '\r';
        crlf += c;
    }
    auto parsed = rank_table::parse(crlf + "\r\n", "crlf.tiktoken");
    REQUIRE(parsed);
    const auto& table = parsed.value();
    CHECK(table.size() == 257);
    CHECK(table.find("ab") == 256);
    CHECK(table.bytes_of(256) == "ab");
    CHECK(table.bytes_of(257).empty());
}

TEST_CASE("merges apply lowest rank first, leftmost among equals, in short and long pieces", "[token][merge]")
{
    // "ab" before "bc": "abc" -> ab, c; "bc" merges only where no "ab" took the b first.
    auto parsed = rank_table::parse(byte_level_ranks({"ab", "bc", "abc", "aa"}), "small");
    REQUIRE(parsed);
    const auto& table = parsed.value();
    const auto encode = [&](const std::string& piece) {
        std::vector<rank> out;
        llm::token::byte_pair_encode(table, piece, [&](rank r) { out.push_back(r); });
        return out;
    };
    const rank a = 'a', b = 'b', c = 'c', ab = 256, bc = 257, abc = 258, aa = 259;
    CHECK(encode("abc") == std::vector<rank>{abc});
    CHECK(encode("bcab") == std::vector<rank>{bc, ab});
    CHECK(encode("aaa") == std::vector<rank>{aa, a}); // leftmost first
    CHECK(encode("cab") == std::vector<rank>{c, ab});
    CHECK(encode("b") == std::vector<rank>{b});
    // Both paths (up to 128 bytes, and longer) against the rule written as plainly as it reads.
    const auto plainly = [&](const std::string& piece) {
        std::vector<std::string> parts;
        for (const char ch : piece)
            parts.emplace_back(1, ch);
        for (;;) {
            rank lowest = llm::token::no_rank;
            std::size_t at = 0;
            for (std::size_t i = 0; i + 1 < parts.size(); ++i)
                if (const rank r = table.find(parts[i] + parts[i + 1]); r < lowest) {
                    lowest = r;
                    at = i;
                }
            if (lowest == llm::token::no_rank)
                break;
            parts[at] += parts[at + 1];
            parts.erase(parts.begin() + static_cast<std::ptrdiff_t>(at) + 1);
        }
        std::vector<rank> out;
        for (const auto& part : parts)
            out.push_back(table.find(part));
        return out;
    };
    std::mt19937 rng(7);
    for (int round = 0; round < 300; ++round) {
        std::string s;
        const auto n = 1 + rng() % 400;
        for (std::size_t i = 0; i < n; ++i)
            s.push_back("abc"[rng() % 3]);
        INFO(s);
        CHECK(encode(s) == plainly(s));
    }
}

TEST_CASE("decode returns the bytes of the ids, and refuses an id no token has", "[token][decode]")
{
    const auto& enc = llm::test::cl100k();
    for (const auto& text : llm::test::handwritten_texts())
        CHECK(enc.decode(enc.encode(text)).value() == text);
    auto bad = enc.decode(std::vector<rank>{15339, 100256, 1917});
    REQUIRE_FALSE(bad);
    CHECK(bad.error() == errc::bad_request);
    CHECK_THAT(bad.error().message, Catch::Contains("100256") && Catch::Contains("cl100k_base"));
    CHECK(enc.decode(std::vector<rank>{100257}).value() == "<|endoftext|>");
    CHECK(enc.decode(std::vector<rank>{}).value().empty());
}

TEST_CASE("special tokens are ordinary text unless allowed", "[token][special]")
{
    for (const auto* enc : {&llm::test::cl100k(), &llm::test::o200k()}) {
        const std::string text = "a<|endoftext|>b<|endofprompt|>";
        const auto ordinary = enc->encode(text);
        CHECK(std::find(ordinary.begin(), ordinary.end(), enc->special("<|endoftext|>")) == ordinary.end());
        const auto allowed = enc->encode(text, special_tokens::allowed);
        const auto a = enc->encode("a");
        const auto b = enc->encode("b");
        std::vector<rank> expected = a;
        expected.push_back(enc->special("<|endoftext|>"));
        expected.insert(expected.end(), b.begin(), b.end());
        expected.push_back(enc->special("<|endofprompt|>"));
        CHECK(allowed == expected);
        CHECK(enc->count(text, special_tokens::allowed) == expected.size());
        CHECK(enc->decode(allowed).value() == text);
        CHECK(enc->special("<|nothing|>") == llm::token::no_rank);
    }
    CHECK(llm::test::cl100k().special("<|fim_middle|>") == 100259);
    CHECK(llm::test::o200k().special("<|fim_middle|>") == llm::token::no_rank);
}

TEST_CASE("bytes that are not UTF-8 are encoded, never lost", "[token][bytes]")
{
    std::mt19937 rng(11);
    for (const auto* enc : {&llm::test::cl100k(), &llm::test::o200k()}) {
        // What follows an invalid byte is one piece with the piece before it (tiktoken's
        // encode_bytes); text before that is encoded as usual.
        const std::string prefix = "Hello world, how are";
        const auto valid_part = enc->encode("Hello world, how");
        const auto mixed = enc->encode(prefix + " \xff\xfe you");
        REQUIRE(mixed.size() > valid_part.size());
        CHECK(std::equal(valid_part.begin(), valid_part.end(), mixed.begin()));
        CHECK(enc->decode(mixed).value() == prefix + " \xff\xfe you");

        for (int round = 0; round < 500; ++round) {
            std::string s;
            const auto n = rng() % 80;
            for (std::size_t i = 0; i < n; ++i)
                s.push_back(rng() % 4 == 0 ? static_cast<char>(rng() % 256) : "ab \n'1.\xc3\xa9"[rng() % 9]);
            const auto ids = enc->encode(s);
            CHECK(enc->decode(ids).value() == s);
            CHECK(enc->count(s) == ids.size());
        }
        // Truncated, overlong, surrogate and out-of-range sequences.
        for (const std::string s : {"\xc3", "\xe2\x82", "\xf0\x9f\x99", "\xc0\xaf", "\xe0\x80\xaf", "\xed\xa0\x80",
                                    "\xf4\x90\x80\x80", "\xf8\x88\x80\x80\x80", "ok\x80", "\x80ok"})
            CHECK(enc->decode(enc->encode(s)).value() == s);
    }
}
