// The stores every cost-control test runs on, behind one shape: `store` is the handle, and
// answer(x) turns what a policy returned (a result now, or an awaitable) into its result.
#pragma once

#include <llm/store/memory.hpp>
#include <llm/store/sqlite.hpp>

#include "support/temp_dir.hpp"

#include <catch2/catch.hpp>

#include <type_traits>

namespace llm::test {

struct memory_backend {
    static constexpr const char* name = "memory";
    store::memory store;

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

struct sqlite_backend {
    static constexpr const char* name = "sqlite";
    temp_dir dir;
    store::sqlite store = open(dir);

    static store::sqlite open(const temp_dir& d)
    {
        auto s = store::sqlite::open(d.file("store.db"));
        REQUIRE(s);
        return s.value();
    }

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

} // namespace llm::test
