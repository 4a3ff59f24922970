// Runs recorded provider answers through the real path: a loopback server replays the fixture,
// llm::transport::https carries it, llm::client with the provider under test decodes it.
#pragma once

#include <llm/client.hpp>
#include <llm/transport/https.hpp>

#include <support/https_client.hpp>
#include <support/loopback_server.hpp>
#include <support/replay.hpp>
#include <support/run.hpp>

#include <asio/io_context.hpp>
#include <catch2/catch.hpp>

#include <optional>
#include <string>
#include <vector>

namespace llm::test {

// What a stream gave: its chunks in order, the answer they add up to, and how it ended.
struct streamed {
    std::vector<chunk> chunks;
    std::string text;
    std::vector<tool_call> tool_calls;
    std::optional<finish_reason> finish;
    std::optional<usage> last_usage;
    std::optional<error> failure;
};

inline void add_up(streamed& s, const chunk& c)
{
    s.chunks.push_back(c);
    s.text += c.text;
    for (const auto& d : c.tool_calls) {
        if (s.tool_calls.size() <= d.index)
            s.tool_calls.resize(d.index + 1);
        auto& call = s.tool_calls[d.index];
        if (!d.id.empty())
            call.id = d.id;
        if (!d.name.empty())
            call.name = d.name;
        if (!d.signature.empty())
            call.signature = d.signature;
        call.arguments += d.arguments;
    }
    if (c.finish_reason)
        s.finish = c.finish_reason;
    if (c.usage)
        s.last_usage = c.usage;
}

// A whole stream body through a fresh decoder of `p`, fed in pieces of `piece` bytes.
template <class Provider>
streamed decode_in_pieces(const Provider& p, std::string_view body, std::size_t piece)
{
    auto d = p.decoder();
    streamed out;
    std::vector<chunk> got;
    for (std::size_t at = 0; at < body.size() && !out.failure; at += piece)
        if (auto fed = d.feed(body.substr(at, piece), got); !fed)
            out.failure = fed.error();
    if (!out.failure)
        if (auto done = d.finish(got); !done)
            out.failure = done.error();
    for (const auto& c : got)
        add_up(out, c);
    return out;
}

// A client of `Provider` (configured by `make(base_url)`) against a loopback server.
template <class Provider>
struct provider_rig {
    asio::io_context io;
    loopback_server server;
    client<transport::https, Provider> ai;

    template <class Make>
    explicit provider_rig(Make make)
        : ai(transport::https(io.get_executor(), quick_https_options()), make(server.url("/")))
    {
    }

    // The fixture replayed to one complete() call.
    result<response> complete(const std::string& fixture, request r, unsigned seed = 1)
    {
        return complete(replay(load_recorded(fixture), seed), std::move(r));
    }

    // The server's answer to one complete() call.
    result<response> complete(script answer, request r)
    {
        server.then(std::move(answer));
        auto got = run(io, ai.complete(std::move(r)));
        REQUIRE(got);
        return std::move(*got);
    }

    // The fixture replayed to one stream, read to its end or its error.
    streamed stream(const std::string& fixture, request r, unsigned seed = 1)
    {
        return stream(replay(load_recorded(fixture), seed), std::move(r));
    }

    // The server's answer to one stream, read to its end or its error.
    streamed stream(script answer, request r)
    {
        server.then(std::move(answer));
        auto s = ai.stream(std::move(r));
        auto got = run(io, [&]() -> asio::awaitable<streamed> {
            streamed out;
            while (true) {
                auto next = co_await s.next();
                if (!next) {
                    out.failure = next.error();
                    break;
                }
                if (!next.value())
                    break;
                add_up(out, *next.value());
            }
            co_return out;
        }());
        REQUIRE(got);
        return std::move(*got);
    }

    // What the server received last: the request line and headers, and the body.
    received_request last_sent() const
    {
        auto all = server.received();
        REQUIRE_FALSE(all.empty());
        return all.back();
    }
};

// What a recorded stream must decode to.
struct stream_case {
    const char* fixture;
    std::size_t text_size; // in bytes
    const char* text_start;
    finish_reason finish;
    std::optional<usage> last_usage;
    std::vector<tool_call> calls;
};

// Replays each case's fixture three times, cut differently each time, and checks what it gave.
template <class Provider>
void check_streams(provider_rig<Provider>& rig, const std::vector<stream_case>& cases)
{
    for (const auto& c : cases) {
        for (unsigned seed = 1; seed <= 3; ++seed) {
            INFO(c.fixture << ", cut with seed " << seed);
            const auto s = rig.stream(c.fixture, request{.model = "m", .messages = {user("hi")}}, seed);
            REQUIRE_FALSE(s.failure);
            CHECK(s.text.size() == c.text_size);
            CHECK(s.text.starts_with(c.text_start));
            CHECK(s.finish == c.finish);
            CHECK(s.last_usage == c.last_usage);
            CHECK(s.tool_calls == c.calls);
        }
    }
}

inline request hello(std::string model = "test-model")
{
    return request{.model = std::move(model), .messages = {user("Say hello")}};
}

} // namespace llm::test
