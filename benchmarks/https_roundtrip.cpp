// One request/response over loopback through llm::transport::https (plain HTTP, pooled
// keep-alive connection), against the same exchange written directly with Asio sockets on one
// kept connection, in the same run and against the same server. Prints the ratio of medians.
// A third case writes the bare exchange as one flat coroutine: the share of the gap that awaiting
// Asio's operations takes by itself. A last one reads the response through a response_stream,
// as the client does.
#include <llm/transport/https.hpp>

#include <support/loopback_server.hpp>

#include <asio/co_spawn.hpp>
#include <asio/connect.hpp>
#include <asio/detached.hpp>
#include <asio/experimental/as_tuple.hpp>
#include <asio/io_context.hpp>
#include <asio/post.hpp>
#include <asio/read.hpp>
#include <asio/read_until.hpp>
#include <asio/write.hpp>
#include <bench/ratio_main.hpp>
#include <benchmark/benchmark.h>

#include <cstdio>
#include <map>
#include <string>
#include <vector>

namespace {

using asio::experimental::as_tuple;

const std::string body(512, 'x'); // about the size of a short chat completion

llm::test::loopback_server& server()
{
    static llm::test::loopback_server s;
    return s;
}

void prepare_server()
{
    server().otherwise(llm::test::answer(200, body, "Content-Type: application/json\r\n"));
}

// How many bytes the response takes, head and body, once its `head` bytes of head are read (the
// server sends Content-Length).
std::size_t through_body(const std::string& buffer, std::size_t head)
{
    const auto at = buffer.find("Content-Length: ");
    return head + std::stoul(buffer.substr(at + 16));
}

// Every case starts its exchange as a service does: from code already running on the
// io_context (a handler or a coroutine), here a function posted to it. The transport sends from
// its exchange's executor, so called from outside it would post once more to get there.
template <class F>
void start_inside(asio::io_context& io, F start)
{
    asio::post(io, std::move(start));
}

// The baseline: write the request, read the head up to the blank line, then the body by its
// Content-Length, with plain callbacks on one kept connection.
struct bare_client {
    asio::ip::tcp::socket socket;
    std::string request;
    std::string buffer;
    std::size_t done = 0;

    void exchange()
    {
        asio::async_write(socket, asio::buffer(request), [this](std::error_code ec, std::size_t) {
            if (ec)
                return;
            asio::async_read_until(socket, asio::dynamic_buffer(buffer), "\r\n\r\n",
                                   [this](std::error_code ec2, std::size_t head) {
                                       if (ec2)
                                           return;
                                       const std::size_t need = through_body(buffer, head);
                                       auto finish = [this, need](std::error_code ec3, std::size_t) {
                                           if (!ec3) {
                                               buffer.erase(0, need);
                                               ++done;
                                           }
                                       };
                                       if (buffer.size() >= need)
                                           finish({}, 0);
                                       else
                                           asio::async_read(socket, asio::dynamic_buffer(buffer),
                                                            asio::transfer_exactly(need - buffer.size()), finish);
                                   });
        });
    }
};

void bare_asio(benchmark::State& state)
{
    prepare_server();
    asio::io_context io;
    bare_client c{asio::ip::tcp::socket(io), {}, {}, 0};
    c.socket.connect({asio::ip::make_address_v4("127.0.0.1"), server().port()});
    c.socket.set_option(asio::ip::tcp::no_delay(true));
    c.request = "GET /v1/models HTTP/1.1\r\nHost: 127.0.0.1:" + std::to_string(server().port()) + "\r\n\r\n";
    for (auto _ : state) {
        start_inside(io, [&] { c.exchange(); });
        io.restart();
        io.run();
    }
    if (c.done != static_cast<std::size_t>(state.iterations()))
        state.SkipWithError("an exchange failed");
}

// The same exchange as one flat coroutine: what awaiting Asio's operations costs by itself.
void bare_coroutine(benchmark::State& state)
{
    prepare_server();
    asio::io_context io;
    asio::ip::tcp::socket socket(io);
    socket.connect({asio::ip::make_address_v4("127.0.0.1"), server().port()});
    socket.set_option(asio::ip::tcp::no_delay(true));
    const std::string request =
        "GET /v1/models HTTP/1.1\r\nHost: 127.0.0.1:" + std::to_string(server().port()) + "\r\n\r\n";
    std::string buffer;
    std::size_t done = 0;
    const auto exchange = [&]() -> asio::awaitable<void> {
        auto [ec, n] = co_await asio::async_write(socket, asio::buffer(request), as_tuple(asio::use_awaitable));
        if (ec)
            co_return;
        auto [ec2, head] = co_await asio::async_read_until(socket, asio::dynamic_buffer(buffer), "\r\n\r\n",
                                                           as_tuple(asio::use_awaitable));
        if (ec2)
            co_return;
        const std::size_t need = through_body(buffer, head);
        if (buffer.size() < need) {
            auto [ec3, m] =
                co_await asio::async_read(socket, asio::dynamic_buffer(buffer),
                                          asio::transfer_exactly(need - buffer.size()), as_tuple(asio::use_awaitable));
            if (ec3)
                co_return;
        }
        buffer.erase(0, need);
        ++done;
        (void)n;
    };
    for (auto _ : state) {
        start_inside(io, [&] { asio::co_spawn(io, exchange(), asio::detached); });
        io.restart();
        io.run();
    }
    if (done != static_cast<std::size_t>(state.iterations()))
        state.SkipWithError("an exchange failed");
}

void round_trips(benchmark::State& state, bool single_threaded)
{
    prepare_server();
    asio::io_context io;
    llm::transport::https wire(io.get_executor(),
                               llm::transport::https_options{.single_threaded = single_threaded, .proxy = {}});
    const llm::http::request r{.method = "GET", .url = server().url("/v1/models")};
    std::size_t ok = 0;
    for (auto _ : state) {
        start_inside(io, [&] {
            wire.async_send(
                r, [&](llm::result<llm::http::response> answer) { ok += answer && answer.value().body == body; });
        });
        io.restart();
        io.run();
    }
    if (ok != static_cast<std::size_t>(state.iterations()))
        state.SkipWithError("an exchange failed");
}

// The client's path: the response read through a response_stream, its head and then its body
// piece by piece (the coroutine path), with single_threaded.
struct stream_reader {
    llm::transport::https::response_stream stream;
    std::string got;
    std::size_t& ok;

    void start()
    {
        stream.async_read_head([this](llm::result<llm::http::response> head) {
            if (head)
                next();
        });
    }

    void next()
    {
        stream.async_read_some([this](llm::result<std::optional<std::string>> piece) {
            if (!piece)
                return;
            if (!piece.value()) {
                ok += got == body;
                return;
            }
            got += *piece.value();
            next();
        });
    }
};

void transport_stream_single_threaded(benchmark::State& state)
{
    prepare_server();
    asio::io_context io;
    llm::transport::https wire(io.get_executor(), llm::transport::https_options{.single_threaded = true, .proxy = {}});
    const llm::http::request r{.method = "GET", .url = server().url("/v1/models")};
    std::size_t ok = 0;
    for (auto _ : state) {
        stream_reader reader{wire.open(r), {}, ok};
        start_inside(io, [&] { reader.start(); });
        io.restart();
        io.run();
    }
    if (ok != static_cast<std::size_t>(state.iterations()))
        state.SkipWithError("an exchange failed");
}

// The default: each exchange on a strand (its connection's), safe when many threads run the
// executor.
void transport_https(benchmark::State& state)
{
    round_trips(state, false);
}

// https_options::single_threaded, as the baseline runs: one thread, no strand.
void transport_https_single_threaded(benchmark::State& state)
{
    round_trips(state, true);
}

} // namespace

BENCHMARK(bare_asio)->MinTime(0.3)->Repetitions(11)->ReportAggregatesOnly(true)->Unit(benchmark::kMicrosecond);
BENCHMARK(bare_coroutine)->MinTime(0.3)->Repetitions(11)->ReportAggregatesOnly(true)->Unit(benchmark::kMicrosecond);
BENCHMARK(transport_https)->MinTime(0.3)->Repetitions(11)->ReportAggregatesOnly(true)->Unit(benchmark::kMicrosecond);
BENCHMARK(transport_https_single_threaded)
    ->MinTime(0.3)
    ->Repetitions(11)
    ->ReportAggregatesOnly(true)
    ->Unit(benchmark::kMicrosecond);
BENCHMARK(transport_stream_single_threaded)
    ->MinTime(0.3)
    ->Repetitions(11)
    ->ReportAggregatesOnly(true)
    ->Unit(benchmark::kMicrosecond);

int main(int argc, char** argv)
{
    auto medians = llm::bench::run_interleaved(argc, argv);
    if (medians["bare_asio"] > 0) {
        std::printf("\nratio one flat coroutine / bare Asio (median): %.3f\n",
                    medians["bare_coroutine"] / medians["bare_asio"]);
        std::printf("ratio transport::https / bare Asio (median): %.3f\n",
                    medians["transport_https"] / medians["bare_asio"]);
        std::printf("ratio transport::https, single_threaded / bare Asio (median): %.3f\n",
                    medians["transport_https_single_threaded"] / medians["bare_asio"]);
        std::printf("ratio response_stream, single_threaded / bare Asio (median): %.3f\n",
                    medians["transport_stream_single_threaded"] / medians["bare_asio"]);
    }
    return 0;
}
