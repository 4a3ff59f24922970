// Drives an io_context for a test, with a bound: no test can hang.
#pragma once

#include <asio/co_spawn.hpp>
#include <asio/io_context.hpp>

#include <chrono>
#include <optional>
#include <utility>

namespace llm::test {

inline constexpr std::chrono::seconds test_bound{10};

// Runs the coroutine to completion on io and returns what it returns; nullopt if it did
// not finish within the bound.
template <class T>
std::optional<T> run(asio::io_context& io, asio::awaitable<T> body)
{
    std::optional<T> out;
    auto store = [&out](asio::awaitable<T> b) -> asio::awaitable<void> { out.emplace(co_await std::move(b)); };
    asio::co_spawn(io, store(std::move(body)), [](std::exception_ptr e) {
        if (e)
            std::rethrow_exception(e);
    });
    io.restart();
    io.run_for(test_bound);
    return out;
}

} // namespace llm::test
