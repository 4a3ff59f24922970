// The stores every cost-control test runs on, behind one shape: `store` is the handle, and
// answer(x) turns what a policy returned (a result now, or an awaitable) into its result.
#pragma once

#include <llm/store/memory.hpp>
#include <llm/store/redis.hpp>
#include <llm/store/sqlite.hpp>

#include "support/redis_server.hpp"
#include "support/temp_dir.hpp"

#include <asio/co_spawn.hpp>
#include <asio/executor_work_guard.hpp>
#include <asio/io_context.hpp>
#include <asio/use_future.hpp>

#include <future>
#include <optional>
#include <thread>
#include <vector>

#include <catch2/catch.hpp>

#include <type_traits>

namespace llm::test {

// A store that answers at once: what a policy returns is already its result.
struct answers_at_once {
    template <class T>
    static T answer(T now)
    {
        return now;
    }
    // For what returns nothing (commit, release).
    template <class F>
    static void run(F f)
    {
        f();
    }
};

struct memory_backend : answers_at_once {
    static constexpr const char* name = "memory";
    store::memory store;
};

// A store that cannot be reached: every batch fails.
struct unreachable_store : store::memory {
    template <class Op>
    result<store::outcomes<typename Op::outcome>> apply(std::span<const store::step<Op>>, time_point) const
    {
        return fail(errc::store_unavailable, "connection refused");
    }
    // Hidden, so that policies take the batches above rather than store::memory's direct path.
    template <class Op>
    typename Op::outcome apply_one(std::string_view, const Op&, time_point) const = delete;
};

struct sqlite_backend : answers_at_once {
    static constexpr const char* name = "sqlite";
    temp_dir dir;
    store::sqlite store = open(dir);

    static store::sqlite open(const temp_dir& d)
    {
        auto s = store::sqlite::open(d.file("store.db"));
        REQUIRE(s);
        return s.value();
    }
};

// A real redis-server, and an io_context on two threads of its own: policies return awaitables,
// which answer() runs there and waits for (with a bound), from any test thread.
struct redis_backend {
    static constexpr const char* name = "redis";
    redis_server server;
    asio::io_context io;
    asio::executor_work_guard<asio::io_context::executor_type> work = asio::make_work_guard(io);
    store::redis store{io.get_executor(), {.port = server.port()}};
    std::vector<std::thread> threads = start(io);

    ~redis_backend()
    {
        work.reset();
        io.stop();
        for (auto& t : threads)
            t.join();
    }

    static std::vector<std::thread> start(asio::io_context& io)
    {
        std::vector<std::thread> out;
        for (int i = 0; i < 2; ++i)
            out.emplace_back([&io] { io.run(); });
        return out;
    }

    template <class T>
    T answer(asio::awaitable<T> later)
    {
        // use_future needs a default-constructible value, which a result is not.
        auto wrapped = [](asio::awaitable<T> a) -> asio::awaitable<std::optional<T>> {
            co_return co_await std::move(a);
        };
        auto done = asio::co_spawn(io, wrapped(std::move(later)), asio::use_future);
        if (done.wait_for(std::chrono::seconds(10)) != std::future_status::ready)
            throw std::runtime_error("a Redis call did not finish within 10 s");
        return std::move(*done.get());
    }

    void answer(asio::awaitable<void> later)
    {
        auto done = asio::co_spawn(io, std::move(later), asio::use_future);
        if (done.wait_for(std::chrono::seconds(10)) != std::future_status::ready)
            throw std::runtime_error("a Redis call did not finish within 10 s");
        done.get();
    }

    template <class F>
    void run(F f)
    {
        answer(f());
    }
};

} // namespace llm::test
