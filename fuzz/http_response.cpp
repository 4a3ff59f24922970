// libFuzzer: the HTTP/1.1 response parser on any bytes must never crash, never read out of
// bounds, and reach the same verdict however the bytes are split. The first input byte picks
// the split; the limits are small so the limit paths run too.
#include <support/http_verdict.hpp>

#include <cstdint>
#include <cstdlib>

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size)
{
    if (size < 2)
        return 0;
    const unsigned seed = data[0];
    const std::string_view bytes(reinterpret_cast<const char*>(data + 1), size - 1);
    const llm::http::response_parser::limits small{.header_bytes = 2048, .header_count = 32, .body_bytes = 4096};
    for (bool eof : {false, true}) {
        const auto whole = llm::test::our_verdict({bytes}, eof, small);
        const auto split = llm::test::our_verdict(llm::test::pieces_of(bytes, seed, 1 + seed % 17), eof, small);
        if (!(whole == split))
            std::abort(); // the verdict depends on how the bytes arrived
    }
    return 0;
}
