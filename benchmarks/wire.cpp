// Decoding throughput of the wire layers on a realistic OpenAI-style stream: HTTP chunked
// framing, server-sent events, and both together, as a response is read in 16 KiB pieces.
// Baseline in the same run: memcpy of the same bytes in the same pieces (the machine's memory
// bandwidth), so the printed ratios survive a noisy machine. MB/s and events/s are printed too.
#include <llm/http/response_parser.hpp>
#include <llm/sse/parser.hpp>

#include <bench/ratio_main.hpp>
#include <benchmark/benchmark.h>

#include <cstring>
#include <fstream>
#include <iterator>
#include <map>
#include <string>
#include <vector>

namespace {

constexpr std::size_t read_size = 16 * 1024;

// ~8 MiB of a real recorded Chat Completions stream, repeated, and the same as the chunked
// HTTP response a server sends (one chunk per event, as OpenAI's servers do).
struct corpus {
    std::string body;
    std::string wire;
    std::size_t events = 0;

    corpus()
    {
        std::ifstream in(std::string(LLM_FIXTURES_DIR) + "/openai/chat-stream-text-include-usage.sse",
                         std::ios::binary);
        const std::string one((std::istreambuf_iterator<char>(in)), std::istreambuf_iterator<char>());
        wire = "HTTP/1.1 200 OK\r\nContent-Type: text/event-stream\r\nTransfer-Encoding: chunked\r\n\r\n";
        while (body.size() < (std::size_t{8} << 20)) {
            for (std::size_t start = 0; start < one.size();) {
                auto end = one.find("\n\n", start);
                end = end == std::string::npos ? one.size() : end + 2;
                const auto event = std::string_view(one).substr(start, end - start);
                char size[32];
                std::snprintf(size, sizeof size, "%zx\r\n", event.size());
                wire.append(size).append(event).append("\r\n");
                body.append(event);
                ++events;
                start = end;
            }
        }
        wire.append("0\r\n\r\n");
    }
};

const corpus& data()
{
    static const corpus c;
    return c;
}

std::size_t iterations(const benchmark::State& state)
{
    return static_cast<std::size_t>(state.iterations());
}

template <class Each>
void in_reads(std::string_view bytes, Each each)
{
    for (std::size_t at = 0; at < bytes.size(); at += read_size)
        each(bytes.substr(at, read_size));
}

void memcpy_baseline(benchmark::State& state)
{
    const auto& c = data();
    std::vector<char> out(read_size);
    for (auto _ : state) {
        in_reads(c.wire, [&](std::string_view piece) {
            std::memcpy(out.data(), piece.data(), piece.size());
            benchmark::DoNotOptimize(out.data());
        });
        benchmark::ClobberMemory();
    }
    state.SetBytesProcessed(static_cast<std::int64_t>(iterations(state) * c.wire.size()));
}

struct counting_sink {
    std::size_t bytes = 0;
    void on_headers(int, const llm::http::headers&) {}
    void on_body(std::string_view piece) { bytes += piece.size(); }
};

void chunked_framing(benchmark::State& state)
{
    const auto& c = data();
    for (auto _ : state) {
        llm::http::response_parser parser({.body_bytes = std::uint64_t{1} << 30});
        counting_sink sink;
        std::error_code ec;
        in_reads(c.wire, [&](std::string_view piece) { parser.put(piece, sink, ec); });
        if (ec || !parser.done() || sink.bytes != c.body.size())
            state.SkipWithError("chunked decoding failed");
    }
    state.SetBytesProcessed(static_cast<std::int64_t>(iterations(state) * c.wire.size()));
}

void sse_events(benchmark::State& state)
{
    const auto& c = data();
    std::size_t events = 0;
    for (auto _ : state) {
        llm::sse::parser parser;
        in_reads(c.body, [&](std::string_view piece) {
            (void)parser.put(piece, [&](const llm::sse::event& e) { events += !e.data.empty(); });
        });
    }
    if (events != iterations(state) * c.events)
        state.SkipWithError("wrong event count");
    state.SetBytesProcessed(static_cast<std::int64_t>(iterations(state) * c.body.size()));
    state.counters["events/s"] = benchmark::Counter(static_cast<double>(events), benchmark::Counter::kIsRate);
}

// What a streaming call does: chunked framing feeding the event parser.
void chunked_then_sse(benchmark::State& state)
{
    const auto& c = data();
    std::size_t events = 0;
    for (auto _ : state) {
        llm::http::response_parser http({.body_bytes = std::uint64_t{1} << 30});
        struct sse_sink {
            llm::sse::parser sse;
            std::size_t* events;
            void on_headers(int, const llm::http::headers&) {}
            void on_body(std::string_view piece)
            {
                (void)sse.put(piece, [&](const llm::sse::event&) { ++*events; });
            }
        } sink{llm::sse::parser{}, &events};
        std::error_code ec;
        in_reads(c.wire, [&](std::string_view piece) { http.put(piece, sink, ec); });
    }
    if (events != iterations(state) * c.events)
        state.SkipWithError("wrong event count");
    state.SetBytesProcessed(static_cast<std::int64_t>(iterations(state) * c.wire.size()));
    state.counters["events/s"] = benchmark::Counter(static_cast<double>(events), benchmark::Counter::kIsRate);
}

} // namespace

BENCHMARK(memcpy_baseline)->Repetitions(7)->ReportAggregatesOnly(true)->Unit(benchmark::kMillisecond);
BENCHMARK(chunked_framing)->Repetitions(7)->ReportAggregatesOnly(true)->Unit(benchmark::kMillisecond);
BENCHMARK(sse_events)->Repetitions(7)->ReportAggregatesOnly(true)->Unit(benchmark::kMillisecond);
BENCHMARK(chunked_then_sse)->Repetitions(7)->ReportAggregatesOnly(true)->Unit(benchmark::kMillisecond);

int main(int argc, char** argv)
{
    auto medians = llm::bench::run_interleaved(argc, argv);

    const double base = medians["memcpy_baseline"];
    if (base <= 0)
        return 0;
    const double mb = static_cast<double>(data().wire.size()) / 1e6;
    for (const char* name : {"chunked_framing", "sse_events", "chunked_then_sse"}) {
        const double t = medians[name];
        std::printf("%-18s %7.0f MB/s   %5.1fx the time of memcpy\n", name, mb / (t / 1e3), t / base);
    }
    return 0;
}
