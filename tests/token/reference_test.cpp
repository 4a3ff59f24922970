// The tokenizer gives exactly tiktoken's ids: on handwritten texts that exercise each rule of
// the split and the merges, and on thousands of random strings, for both encodings.
#include "corpus.hpp"
#include "encodings.hpp"

#include <catch2/catch.hpp>

#include <sstream>

namespace {

std::string printable(const std::string& text)
{
    std::ostringstream out;
    for (const char ch : text) {
        const auto c = static_cast<unsigned char>(ch);
        if (c >= 0x20 && c < 0x7f && c != '\\')
            out << c;
        else
            out << "\\x" << std::hex << static_cast<int>(c) << std::dec;
    }
    return out.str();
}

void check_against_reference(const llm::token::encoding& enc, const std::vector<std::string>& texts)
{
    const auto expected = llm::test::reference_ids(std::string(enc.name()), texts);
    REQUIRE(expected.size() == texts.size());
    std::size_t mismatches = 0;
    for (std::size_t i = 0; i < texts.size(); ++i) {
        const auto ours = enc.encode(texts[i]);
        if (ours == expected[i]) {
            CHECK(enc.count(texts[i]) == ours.size());
            continue;
        }
        if (++mismatches > 5)
            continue; // enough to see the pattern
        std::ostringstream ids;
        for (const auto id : ours)
            ids << id << ' ';
        ids << "\n  tiktoken: ";
        for (const auto id : expected[i])
            ids << id << ' ';
        FAIL_CHECK(enc.name() << " text " << i << ": \"" << printable(texts[i]) << "\"\n  ours:     " << ids.str());
    }
    CHECK(mismatches == 0);
}

} // namespace

TEST_CASE("cl100k_base matches tiktoken on handwritten texts", "[token][reference]")
{
    check_against_reference(llm::test::cl100k(), llm::test::handwritten_texts());
}

TEST_CASE("o200k_base matches tiktoken on handwritten texts", "[token][reference]")
{
    check_against_reference(llm::test::o200k(), llm::test::handwritten_texts());
}

TEST_CASE("cl100k_base matches tiktoken on random strings", "[token][reference]")
{
    check_against_reference(llm::test::cl100k(), llm::test::random_texts(5000, 80, 1));
}

TEST_CASE("o200k_base matches tiktoken on random strings", "[token][reference]")
{
    check_against_reference(llm::test::o200k(), llm::test::random_texts(5000, 80, 2));
}
