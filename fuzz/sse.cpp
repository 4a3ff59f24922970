// libFuzzer: the event-stream parser on any bytes must never crash and must give the same
// events, or the same error, however the bytes are split.
#include <llm/sse/parser.hpp>
#include <support/http_verdict.hpp>

#include <cstdint>
#include <cstdlib>
#include <vector>

namespace {
std::pair<std::vector<llm::sse::event>, std::error_code> parse(const std::vector<std::string_view>& pieces)
{
    llm::sse::parser p(4096);
    std::vector<llm::sse::event> events;
    std::error_code ec;
    for (auto piece : pieces)
        if (!ec)
            ec = p.put(piece, [&](const llm::sse::event& e) { events.push_back(e); });
    return {events, ec};
}
} // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size)
{
    if (size < 2)
        return 0;
    const std::string_view bytes(reinterpret_cast<const char*>(data + 1), size - 1);
    const auto whole = parse({bytes});
    const auto split = parse(llm::test::pieces_of(bytes, data[0], 1 + data[0] % 13));
    if (whole.second != split.second || (!whole.second && whole.first != split.first))
        std::abort();
    return 0;
}
