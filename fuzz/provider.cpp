// libFuzzer, one target per provider (LLM_FUZZ_PROVIDER names it): the provider's answer decoder
// and stream decoder on any bytes must never crash; an error status must decode to an error; and
// the stream decoder must give the same chunks, and the same error, however the bytes are split.
#include <llm/provider/anthropic.hpp>
#include <llm/provider/gemini.hpp>
#include <llm/provider/openai.hpp>
#include <support/http_verdict.hpp>

#include <cstdint>
#include <cstdlib>
#include <optional>
#include <vector>

namespace {

using fuzzed = llm::provider::LLM_FUZZ_PROVIDER;

const fuzzed& provider()
{
    static const fuzzed p = [] {
        typename fuzzed::config_type c;
        c.api_key = "fuzz";
        return fuzzed(c);
    }();
    return p;
}

struct streamed {
    std::vector<llm::chunk> chunks;
    std::optional<llm::error> failure;

    bool operator==(const streamed& other) const
    {
        if (chunks != other.chunks || failure.has_value() != other.failure.has_value())
            return false;
        return !failure || (failure->code == other.failure->code && failure->message == other.failure->message);
    }
};

streamed decode(const std::vector<std::string_view>& pieces)
{
    auto d = provider().decoder();
    streamed out;
    for (auto piece : pieces) {
        if (auto fed = d.feed(piece, out.chunks); !fed) {
            out.failure = fed.error();
            return out;
        }
    }
    if (auto done = d.finish(out.chunks); !done)
        out.failure = done.error();
    return out;
}

} // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size)
{
    if (size < 2)
        return 0;
    const std::string_view bytes(reinterpret_cast<const char*>(data + 1), size - 1);
    for (int status : {200, 400, 429, 529}) {
        const auto answer = provider().decode(llm::http::response{status, {}, std::string(bytes)});
        if (status != 200 && answer)
            std::abort(); // an error status never reads as an answer
        if (!answer && answer.error().code.category() != llm::error_category())
            std::abort(); // failures are the library's own codes
    }
    const auto whole = decode({bytes});
    const auto split = decode(llm::test::pieces_of(bytes, data[0], 1 + data[0] % 17));
    if (!(whole == split))
        std::abort();
    return 0;
}
