// What does llm::client cost when every layer is left out?
//
// Baseline: one call straight to the scripted transport (an in-process answer, the cheapest
// transport there is, so any overhead shows). Under test: the same call through
// llm::client<scripted> with every policy null. Both run in this one process, their
// repetitions interleaved in random order, and the program prints the ratio of their medians:
// these machines are too noisy for absolute figures. A third case, one observer, shows what the first present layer
// costs (the coroutine pipeline) for comparison.
#include <llm/client.hpp>

#include <support/scripted_transport.hpp>

#include <asio/io_context.hpp>
#include <bench/ratio_main.hpp>
#include <benchmark/benchmark.h>

#include <cstdio>
#include <map>
#include <string>
#include <vector>

namespace {

struct counting_observer {
    std::size_t events = 0;
    void on_event(const llm::observe::event&) { ++events; }
};

const llm::request& question()
{
    static const llm::request r{.model = "bench", .messages = {llm::user("What is the capital of Norway?")}};
    return r;
}

llm::response answer()
{
    return llm::response{.text = "Oslo.", .usage = {12, 2, 0}, .model = "bench"};
}

// Runs one call per iteration: initiate, then run the handlers it posted.
template <class Call>
void run_calls(benchmark::State& state, asio::io_context& io, Call call)
{
    std::size_t ok = 0;
    for (auto _ : state) {
        call([&ok](llm::result<llm::response> r) { ok += r.has_value(); });
        io.restart();
        io.run();
    }
    if (ok != static_cast<std::size_t>(state.iterations()))
        state.SkipWithError("a call failed");
}

void transport_direct(benchmark::State& state)
{
    asio::io_context io;
    llm::test::scripted transport{io.get_executor()};
    transport.otherwise(answer());
    run_calls(state, io, [&](auto handler) { transport.async_complete(question(), std::move(handler)); });
}

void client_all_null(benchmark::State& state)
{
    asio::io_context io;
    llm::test::scripted transport{io.get_executor()};
    transport.otherwise(answer());
    llm::client<llm::test::scripted> ai{transport};
    static_assert(sizeof(ai) == sizeof(transport));
    run_calls(state, io, [&](auto handler) { ai.complete(question(), std::move(handler)); });
}

void client_with_observer(benchmark::State& state)
{
    asio::io_context io;
    llm::test::scripted transport{io.get_executor()};
    transport.otherwise(answer());
    llm::client<llm::test::scripted, counting_observer> ai{transport};
    run_calls(state, io, [&](auto handler) { ai.complete(question(), std::move(handler)); });
}

} // namespace

BENCHMARK(transport_direct)->MinTime(0.2)->Repetitions(15)->ReportAggregatesOnly(true);
BENCHMARK(client_all_null)->MinTime(0.2)->Repetitions(15)->ReportAggregatesOnly(true);
BENCHMARK(client_with_observer)->MinTime(0.2)->Repetitions(15)->ReportAggregatesOnly(true);

int main(int argc, char** argv)
{
    auto medians = llm::bench::run_interleaved(argc, argv);

    const double base = medians["transport_direct"];
    if (base <= 0)
        return 0; // filtered out
    std::printf("\nratio client<scripted, all null> / scripted transport (median): %.3f\n",
                medians["client_all_null"] / base);
    std::printf("ratio client<scripted, observer> / scripted transport (median): %.3f\n",
                medians["client_with_observer"] / base);
    return 0;
}
