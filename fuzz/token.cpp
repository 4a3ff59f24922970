// libFuzzer: the tokenizer on any bytes, and the rank-file parser on any file. Whatever the
// input, encoding never crashes and loses nothing (decode gives the bytes back, count agrees
// with encode), the split covers valid text without gaps or empty pieces, and a malformed rank
// file is an error, never a crash. The first byte picks what is fuzzed.
#include <llm/token/encoding.hpp>

#include <cstdint>
#include <cstdlib>
#include <string>

namespace {

const llm::token::encoding& load(const char* name)
{
    auto loaded = llm::token::encoding::load(name, std::string(LLM_TIKTOKEN_DIR) + "/" + name + ".tiktoken");
    if (!loaded)
        std::abort(); // run scripts/fetch-tiktoken first
    return *new llm::token::encoding(std::move(loaded).value());
}

void check_encoding(const llm::token::encoding& enc, std::string_view text)
{
    const auto ids = enc.encode(text);
    if (enc.count(text) != ids.size())
        std::abort();
    auto back = enc.decode(ids);
    if (!back || back.value() != text)
        std::abort();
    const auto with_specials = enc.encode(text, llm::token::special_tokens::allowed);
    auto back_too = enc.decode(with_specials);
    if (!back_too || back_too.value() != text)
        std::abort();
    const auto valid = text.substr(0, llm::token::valid_utf8_prefix(text));
    std::string joined;
    llm::token::pretokenize(enc.name() == "cl100k_base" ? llm::token::pattern::cl100k : llm::token::pattern::o200k,
                            valid, [&](std::string_view piece) {
                                if (piece.empty())
                                    std::abort();
                                joined.append(piece);
                            });
    if (joined != valid)
        std::abort();
}

} // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size)
{
    if (size < 1)
        return 0;
    const std::string_view bytes(reinterpret_cast<const char*>(data + 1), size - 1);
    switch (data[0] % 3) {
    case 0: {
        auto table = llm::token::rank_table::parse(bytes, "fuzz");
        if (table && table.value().size() == 0)
            std::abort(); // a table that parsed holds tokens
        break;
    }
    case 1: {
        static const auto& cl100k = load("cl100k_base");
        check_encoding(cl100k, bytes);
        break;
    }
    default: {
        static const auto& o200k = load("o200k_base");
        check_encoding(o200k, bytes);
        break;
    }
    }
    return 0;
}
