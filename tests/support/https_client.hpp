// Shorthands for tests that drive llm::transport::https against a loopback server.
#pragma once

#include <llm/transport/https.hpp>

#include <asio/bind_cancellation_slot.hpp>
#include <asio/cancellation_signal.hpp>
#include <asio/io_context.hpp>
#include <catch2/catch.hpp>

#include <chrono>
#include <optional>
#include <string>

namespace llm::test {

// Short deadlines, and no proxy from the environment: tests of timeouts must not wait long,
// and no test may hang or leave the machine.
inline transport::https_options quick_https_options()
{
    using namespace std::chrono_literals;
    transport::https_options o;
    o.connect_timeout = o.tls_timeout = o.first_byte_timeout = o.idle_timeout = 2s;
    o.total_timeout = 8s;
    o.proxy = {};
    return o;
}

inline http::request get(std::string url)
{
    return http::request{.method = "GET", .url = std::move(url)};
}

// Sends and runs io until the answer arrives (at most 10 s).
inline result<http::response> send(transport::https& wire, asio::io_context& io, const http::request& r,
                                   asio::cancellation_slot slot = {})
{
    std::optional<result<http::response>> got;
    wire.async_send(
        r, asio::bind_cancellation_slot(slot, [&](result<http::response> answer) { got.emplace(std::move(answer)); }));
    io.restart();
    io.run_for(std::chrono::seconds(10));
    REQUIRE(got);
    return std::move(*got);
}

} // namespace llm::test
