// The llm demo: one client, every layer of the pipeline, and what each call went through.
//
// Part 1 talks to an in-process scripted transport, not to a provider: no network, no API key.
// The rate limit (a token bucket per user) and the budget (tokens per user per day) are the
// library's own, on the in-memory store; the cache and retry layers are still the stand-ins
// from tests/support, replaced here as their real implementations land. Part 2 sends
// one request through each provider's codec and the HTTPS transport to a loopback server that
// replays recorded provider traffic.
#include <llm/budget/tokens.hpp>
#include <llm/llm.hpp>
#include <llm/provider/anthropic.hpp>
#include <llm/provider/gemini.hpp>
#include <llm/provider/openai.hpp>
#include <llm/rate_limit/headers.hpp>
#include <llm/rate_limit/token_bucket.hpp>
#include <llm/store/memory.hpp>
#include <llm/transport/https.hpp>

#include <support/loopback_server.hpp>
#include <support/recording_policies.hpp>
#include <support/scripted_transport.hpp>

#include <asio/co_spawn.hpp>
#include <asio/detached.hpp>
#include <asio/io_context.hpp>

#include <cstdio>
#include <fstream>
#include <sstream>
#include <string>

namespace {

using namespace std::chrono_literals;

// Prints each stage of a call on one line as it happens.
struct stage_printer {
    void on_event(const llm::observe::event& e)
    {
        using llm::observe::stage;
        const auto name = llm::observe::to_string(e.stage);
        std::printf("%s%.*s", e.stage == stage::started ? "  " : " -> ", static_cast<int>(name.size()), name.data());
        if (e.stage == stage::attempt)
            std::printf(" %u", e.attempt);
        if (e.stage == stage::retry_wait)
            std::printf(" %lldms",
                        static_cast<long long>(std::chrono::duration_cast<std::chrono::milliseconds>(e.delay).count()));
        if (e.error && e.error->http_status != 0 && e.stage != stage::finished)
            std::printf(" (HTTP %d)", e.error->http_status);
        if (e.stage == stage::finished)
            std::printf("\n");
    }
};

using rate_limit = llm::rate_limit::token_bucket<llm::store::memory>;
using budget = llm::budget::tokens<llm::store::memory>;
using demo_client = llm::client<llm::test::scripted, rate_limit, budget, llm::test::recording_cache,
                                llm::test::recording_retry, stage_printer>;

// What a service would answer its own client with after a refusal.
void show_headers(const llm::error& e)
{
    std::printf("  a server would answer HTTP 429 with:\n");
    for (const auto& [name, value] : llm::rate_limit::headers(e))
        std::printf("    %s: %s\n", name.c_str(), value.c_str());
}

void show_budget(demo_client& ai, const char* user)
{
    auto standing = ai.budget().status(llm::identity{.user = user, .tenant = "acme"}, llm::system_clock::now());
    if (standing)
        std::printf("  %s's budget today: %.0f of %.0f tokens spent, %.0f left\n\n", user,
                    standing.value().front().spent, standing.value().front().limit, standing.value().front().remaining);
}

void show(const llm::result<llm::response>& r)
{
    if (r && r.value().cached)
        std::printf("  answer: \"%s\" from the cache, no tokens billed\n\n", r.value().text.c_str());
    else if (r)
        std::printf("  answer: \"%s\" (%llu tokens in, %llu out)\n\n", r.value().text.c_str(),
                    static_cast<unsigned long long>(r.value().usage.input_tokens),
                    static_cast<unsigned long long>(r.value().usage.output_tokens));
    else
        std::printf("  refused: %s\n\n", r.error().describe().c_str());
}

llm::request ask(std::string question, std::string user = "ada")
{
    return llm::request{.model = "scripted-model",
                        .messages = {llm::system("Answer in one sentence."), llm::user(std::move(question))},
                        .max_tokens = 100,
                        .identity = {.user = std::move(user), .tenant = "acme", .feature = "demo"}};
}

asio::awaitable<void> tour(demo_client& ai, llm::test::scripted& provider)
{
    std::printf("1. A first question goes all the way to the transport:\n");
    provider.then_answer("Oslo.", {12, 2, 0});
    show(co_await ai.complete(ask("What is the capital of Norway?")));

    std::printf("2. The same question again is answered by the cache, and costs nothing:\n");
    show(co_await ai.complete(ask("What is the capital of Norway?")));

    std::printf("3. The transport fails once with HTTP 503; the retry layer tries again:\n");
    provider.then_fail(llm::errc::provider_unavailable, 503).then_answer("Stockholm.", {12, 3, 0});
    show(co_await ai.complete(ask("What is the capital of Sweden?")));

    std::printf("4. Ada's fourth call this minute is over her rate limit of 3 a minute: refused before\n"
                "   anything is spent:\n");
    auto limited = co_await ai.complete(ask("What is the capital of Denmark?"));
    show(limited);
    if (!limited)
        show_headers(limited.error());
    show_budget(ai, "ada");

    std::printf("5. Grace asks until her daily budget of %.0f tokens is spent; the budget lowers max_tokens\n"
                "   to what is left, then refuses:\n",
                *ai.budget().limits().per_user);
    // Two answers are scripted: the third call never reaches the transport.
    provider.then_answer("Helsinki.", {40, 60, 0}).then_answer("Tallinn.", {40, 60, 0});
    for (const char* question : {"What is the capital of Finland?", "And of Estonia?", "And of Latvia?"}) {
        auto answer = co_await ai.complete(ask(question, "grace"));
        show(answer);
        if (!answer) {
            show_headers(answer.error());
            break;
        }
    }
    show_budget(ai, "grace");

    std::printf("6. A streamed answer (for Linus) arrives chunk by chunk:\n");
    provider.then(
        llm::test::stream_script{.chunks = {llm::chunk{.text = "Reykjavik"}, llm::chunk{.text = " is the capital"},
                                            llm::chunk{.text = " of Iceland.",
                                                       .finish_reason = llm::finish_reason::stop,
                                                       .usage = llm::usage{12, 6, 0}}}});
    auto stream = ai.stream(ask("What is the capital of Iceland?", "linus"));
    std::string pieces;
    while (true) {
        auto next = co_await stream.next();
        if (!next) {
            std::printf("  refused: %s\n", next.error().describe().c_str());
            break;
        }
        if (!next.value())
            break;
        pieces.append("[").append(next.value()->text).append("]");
    }
    std::printf("  chunks: %s\n\n", pieces.c_str());

    std::printf("The transport was called %zu times for 8 calls.\n", provider.calls());
}

// A recorded stream from the shared fixtures, as the loopback server sends it: chunked, in
// pieces of 200 bytes.
llm::test::script recorded(const char* fixture)
{
    std::ifstream in(std::string(LLM_FIXTURES_DIR) + "/" + fixture, std::ios::binary);
    std::ostringstream body;
    body << in.rdbuf();
    std::vector<std::string> pieces;
    for (std::size_t at = 0; at < body.str().size(); at += 200)
        pieces.push_back(body.str().substr(at, 200));
    return llm::test::chunked(200, pieces, 0ms);
}

// One prompt through one provider's codec, over real HTTP to the loopback server. (The
// provider comes by reference from a named object: g++ 12 mishandles class temporaries passed
// by value to a coroutine inside a co_await expression.)
template <class Provider>
asio::awaitable<void> through(const char* name, const Provider& provider, const char* model,
                              llm::test::loopback_server& server, const char* fixture)
{
    server.then(recorded(fixture));
    auto ex = co_await asio::this_coro::executor;
    llm::transport::https_options options;
    options.proxy = {};
    llm::client<llm::transport::https, Provider> ai(llm::transport::https(ex, options), Provider(provider));
    auto stream = ai.stream(llm::request{.model = model, .messages = {llm::user("Say hello!")}});
    std::string text;
    llm::usage used;
    while (true) {
        auto next = co_await stream.next();
        if (!next) {
            std::printf("  %-10s failed: %s\n", name, next.error().describe().c_str());
            co_return;
        }
        if (!next.value())
            break;
        text += next.value()->text;
        if (next.value()->usage)
            used = *next.value()->usage;
    }
    const auto head = server.received().back().head;
    std::printf("  %-10s %s\n             -> \"%s\" (%llu tokens in, %llu out)\n", name,
                head.substr(0, head.find(" HTTP/1.1")).c_str(), text.substr(0, text.find('\n')).c_str(),
                static_cast<unsigned long long>(used.input_tokens),
                static_cast<unsigned long long>(used.output_tokens));
}

asio::awaitable<void> providers_tour()
{
    std::printf("\nPart 2: one request, four providers' wire formats. A loopback server replays streams\n"
                "recorded from the real APIs (each one's answer to its own recorded prompt); every call goes\n"
                "through transport::https and the provider's encoder and stream decoder:\n");
    llm::test::loopback_server server;
    const std::string base = server.url("");
    const llm::provider::openai openai({.api_key = "demo", .base_url = base + "/v1"});
    const llm::provider::anthropic anthropic({.api_key = "demo", .base_url = base});
    const llm::provider::gemini gemini({.api_key = "demo", .base_url = base});
    const llm::provider::openai_compatible ollama(llm::provider::openai_config::compatible(base + "/v1"));
    co_await through("openai", openai, "gemini-2.0-flash", server, "gemini/openai-compat-stream-text.sse");
    co_await through("anthropic", anthropic, "claude-sonnet-4-5", server, "anthropic/messages-stream-text.sse");
    co_await through("gemini", gemini, "gemini-2.0-flash", server, "gemini/stream-text.sse");
    co_await through("ollama", ollama, "llama3.1", server, "ollama/chat-stream-text.sse");
    std::printf("Every provider answered through the same llm::client interface.\n");
}

} // namespace

int main()
{
    std::printf("llm %d.%d.%d demo\n", llm::version_major, llm::version_minor, llm::version_patch);
    std::printf("Talking to: an in-process scripted transport (no network, no provider, no API key).\n");
    std::printf("Layers: guard, rate limit (3 calls a minute per user), budget (200 tokens a day per user),\n"
                "cache and retry (stand-ins from tests/support), and an observer printing each stage a call\n"
                "goes through.\n\n");

    asio::io_context io;
    llm::test::scripted provider{io.get_executor()};
    auto log = std::make_shared<llm::test::journal>(); // the stand-ins' own record, unused here
    llm::store::memory store;                          // one store for both: a real service would use SQLite or Redis
    demo_client ai{provider,
                   rate_limit(store, {{.scope = llm::rate_limit::scope::user,
                                       .requests = llm::rate_limit::limit{3, std::chrono::minutes(1)}}}),
                   budget(store, {.per_user = 200}),
                   llm::test::recording_cache{log},
                   llm::test::recording_retry{log, 3, 200ms},
                   stage_printer{}};

    bool finished = false;
    asio::co_spawn(
        io,
        [&]() -> asio::awaitable<void> {
            co_await tour(ai, provider);
            co_await providers_tour();
        },
        [&](std::exception_ptr e) { finished = !e; });
    io.run_for(30s);
    return finished ? 0 : 1;
}
