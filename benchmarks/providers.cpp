// The providers' codecs. Decoding: a long OpenAI and a long Anthropic stream (recorded events,
// the text deltas repeated to ~4 MiB), read in 16 KiB pieces through HTTP chunked framing, the
// event parser and the provider's stream decoder into chunks; baseline in the same run: the
// framing alone (chunked + events, no JSON). Encoding: a typical request written straight into
// the body, against building a Boost.JSON document of the same body and serializing it.
#include <llm/http/response_parser.hpp>
#include <llm/provider/anthropic.hpp>
#include <llm/provider/openai.hpp>

#include <bench/ratio_main.hpp>
#include <benchmark/benchmark.h>
#include <boost/json/serialize.hpp>
#include <boost/json/value.hpp>

#include <fstream>
#include <iterator>
#include <string>
#include <vector>

namespace {

constexpr std::size_t read_size = 16 * 1024;

// A recorded stream with its text-delta events repeated, as a chunked HTTP response with one
// chunk per event.
struct corpus {
    std::string wire;
    std::size_t body_bytes = 0;
    std::size_t events = 0;

    corpus(const char* fixture, std::string_view repeated_marker)
    {
        std::ifstream in(std::string(LLM_FIXTURES_DIR) + "/" + fixture, std::ios::binary);
        const std::string one((std::istreambuf_iterator<char>(in)), std::istreambuf_iterator<char>());
        std::vector<std::string_view> all;
        for (std::size_t start = 0; start < one.size();) {
            auto end = one.find("\n\n", start);
            end = end == std::string::npos ? one.size() : end + 2;
            all.push_back(std::string_view(one).substr(start, end - start));
            start = end;
        }
        // The events before the first text delta, the deltas again and again, then the rest.
        std::size_t first = 0, last = 0;
        for (std::size_t i = 0; i < all.size(); ++i)
            if (all[i].find(repeated_marker) != std::string_view::npos) {
                if (first == 0)
                    first = i;
                last = i + 1;
            }
        wire = "HTTP/1.1 200 OK\r\nContent-Type: text/event-stream\r\nTransfer-Encoding: chunked\r\n\r\n";
        auto add = [&](std::string_view event) {
            char size[32];
            std::snprintf(size, sizeof size, "%zx\r\n", event.size());
            wire.append(size).append(event).append("\r\n");
            body_bytes += event.size();
            ++events;
        };
        for (std::size_t i = 0; i < first; ++i)
            add(all[i]);
        while (body_bytes < (std::size_t{4} << 20))
            for (std::size_t i = first; i < last; ++i)
                add(all[i]);
        for (std::size_t i = last; i < all.size(); ++i)
            add(all[i]);
        wire.append("0\r\n\r\n");
    }
};

const corpus& openai_stream()
{
    static const corpus c("openai/chat-stream-text-usage-null-obfuscation.sse", "\"content\":\"");
    return c;
}

const corpus& anthropic_stream()
{
    static const corpus c("anthropic/messages-stream-text.sse", "text_delta");
    return c;
}

const llm::provider::openai& openai()
{
    static const llm::provider::openai p({.api_key = "bench", .base_url = "https://api.openai.com/v1"});
    return p;
}

const llm::provider::anthropic& anthropic()
{
    static const llm::provider::anthropic p({.api_key = "bench"});
    return p;
}

// Feeds the body of `c` to `on_body`, as the transport reads it.
template <class OnBody>
bool read_body(const corpus& c, OnBody on_body)
{
    struct sink {
        OnBody& pass;
        void on_headers(int, llm::http::headers&&) {}
        void on_body(std::string_view piece) { pass(piece); }
    } s{on_body};
    llm::http::response_parser http({.body_bytes = std::uint64_t{1} << 30});
    std::error_code ec;
    for (std::size_t at = 0; at < c.wire.size() && !ec; at += read_size)
        http.put(std::string_view(c.wire).substr(at, read_size), s, ec);
    return !ec && http.done();
}

void framing(benchmark::State& state, const corpus& c)
{
    std::size_t events = 0;
    for (auto _ : state) {
        llm::sse::parser sse;
        if (!read_body(
                c, [&](std::string_view piece) { (void)sse.put(piece, [&](const llm::sse::event&) { ++events; }); }))
            state.SkipWithError("framing failed");
    }
    state.SetBytesProcessed(static_cast<std::int64_t>(state.iterations()) * static_cast<std::int64_t>(c.wire.size()));
    state.counters["events/s"] = benchmark::Counter(static_cast<double>(events), benchmark::Counter::kIsRate);
}

template <class Provider>
void decode(benchmark::State& state, const corpus& c, const Provider& p)
{
    std::size_t chunks = 0;
    std::vector<llm::chunk> out;
    for (auto _ : state) {
        auto decoder = p.decoder();
        bool ok = read_body(c, [&](std::string_view piece) {
            out.clear();
            if (!decoder.feed(piece, out))
                state.SkipWithError("decoding failed");
            chunks += out.size();
        });
        out.clear();
        if (!ok || !decoder.finish(out))
            state.SkipWithError("the stream did not end well");
        chunks += out.size();
    }
    state.SetBytesProcessed(static_cast<std::int64_t>(state.iterations()) * static_cast<std::int64_t>(c.wire.size()));
    state.counters["chunks/s"] = benchmark::Counter(static_cast<double>(chunks), benchmark::Counter::kIsRate);
}

void openai_framing(benchmark::State& state)
{
    framing(state, openai_stream());
}
void openai_decode(benchmark::State& state)
{
    decode(state, openai_stream(), openai());
}
void anthropic_framing(benchmark::State& state)
{
    framing(state, anthropic_stream());
}
void anthropic_decode(benchmark::State& state)
{
    decode(state, anthropic_stream(), anthropic());
}

// A typical chat request: a system prompt, three exchanges of history, one tool.
llm::request typical()
{
    llm::request r{.model = "gpt-4.1-mini", .max_tokens = 800, .temperature = 0.3};
    r.messages.push_back(llm::system("You are a support assistant for an online bookshop. Answer briefly and "
                                     "politely; ask for the order number when you need it."));
    for (int i = 0; i < 3; ++i) {
        r.messages.push_back(llm::user("Where is my order? I placed it last Tuesday and the tracking page has not "
                                       "changed since Wednesday morning."));
        r.messages.push_back(llm::assistant("I am sorry about the delay. Could you give me the order number so I "
                                            "can check where the parcel is?"));
    }
    r.messages.push_back(llm::user("It is 4417-2291."));
    r.tools.push_back({"order_status", "Looks up an order's shipping status by its number",
                       R"({"type":"object","properties":{"order":{"type":"string"}},"required":["order"]})"});
    return r;
}

void encode_direct(benchmark::State& state)
{
    const auto r = typical();
    for (auto _ : state) {
        auto wire = openai().encode(r);
        benchmark::DoNotOptimize(wire);
    }
}

// The same body through a document: what "without an intermediate DOM" is measured against.
void encode_dom(benchmark::State& state)
{
    const auto r = typical();
    for (auto _ : state) {
        boost::json::object body;
        body["model"] = r.model;
        auto& messages = body["messages"].emplace_array();
        for (const auto& m : r.messages)
            messages.push_back(boost::json::object{{"role", m.role == llm::role::system ? "system"
                                                            : m.role == llm::role::user ? "user"
                                                                                        : "assistant"},
                                                   {"content", m.text}});
        body["max_completion_tokens"] = *r.max_tokens;
        body["temperature"] = *r.temperature;
        auto& tools = body["tools"].emplace_array();
        for (const auto& t : r.tools)
            tools.push_back(boost::json::object{
                {"type", "function"},
                {"function", boost::json::object{{"name", t.name},
                                                 {"description", t.description},
                                                 {"parameters", boost::json::parse(t.parameters)}}}});
        auto text = boost::json::serialize(body);
        benchmark::DoNotOptimize(text);
    }
}

} // namespace

BENCHMARK(openai_framing)->Repetitions(7)->ReportAggregatesOnly(true)->Unit(benchmark::kMillisecond);
BENCHMARK(openai_decode)->Repetitions(7)->ReportAggregatesOnly(true)->Unit(benchmark::kMillisecond);
BENCHMARK(anthropic_framing)->Repetitions(7)->ReportAggregatesOnly(true)->Unit(benchmark::kMillisecond);
BENCHMARK(anthropic_decode)->Repetitions(7)->ReportAggregatesOnly(true)->Unit(benchmark::kMillisecond);
BENCHMARK(encode_direct)->Repetitions(7)->ReportAggregatesOnly(true)->Unit(benchmark::kMicrosecond);
BENCHMARK(encode_dom)->Repetitions(7)->ReportAggregatesOnly(true)->Unit(benchmark::kMicrosecond);

int main(int argc, char** argv)
{
    auto medians = llm::bench::run_interleaved(argc, argv);
    for (const auto& [name, c] : {std::pair{"openai", &openai_stream()}, std::pair{"anthropic", &anthropic_stream()}}) {
        const double framing_ms = medians[std::string(name) + "_framing"];
        const double decode_ms = medians[std::string(name) + "_decode"];
        if (framing_ms <= 0 || decode_ms <= 0)
            continue;
        const double mb = static_cast<double>(c->wire.size()) / 1e6;
        std::printf("%-9s stream: %zu events, %.1f MB; decoded at %.0f MB/s, %.2fM events/s; %.1fx the time of the "
                    "framing alone\n",
                    name, c->events, mb, mb / (decode_ms / 1e3), static_cast<double>(c->events) / decode_ms / 1e3,
                    decode_ms / framing_ms);
    }
    if (medians["encode_dom"] > 0)
        std::printf("encode a typical request: %.2f us written directly, %.2fx the time through a Boost.JSON "
                    "document\n",
                    medians["encode_direct"], medians["encode_direct"] / medians["encode_dom"]);
    return 0;
}
