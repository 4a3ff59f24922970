// The lock store::memory's shards take for a few dozen nanoseconds: it must exclude, and a
// waiter must get it once it is left, even while the holder is slow.
#include <llm/detail/spin_lock.hpp>

#include <catch2/catch.hpp>

#include <chrono>
#include <mutex>
#include <thread>

using llm::detail::spin_lock;

TEST_CASE("spin_lock lets one holder in at a time", "[core][lock]")
{
    spin_lock lock;
    long counted = 0; // plain: only the lock keeps the two threads' increments apart
    constexpr long each = 200'000;
    auto work = [&] {
        for (long i = 0; i < each; ++i) {
            std::lock_guard held(lock);
            ++counted;
        }
    };
    std::thread other(work);
    work();
    other.join();
    CHECK(counted == 2 * each);
}

TEST_CASE("spin_lock's try_lock fails while it is held and succeeds once it is left", "[core][lock]")
{
    spin_lock lock;
    REQUIRE(lock.try_lock());
    CHECK_FALSE(lock.try_lock());
    std::thread([&] { CHECK_FALSE(lock.try_lock()); }).join();
    lock.unlock();
    CHECK(lock.try_lock());
    lock.unlock();
}

TEST_CASE("a spin_lock waiter gets the lock once a slow holder leaves it", "[core][lock]")
{
    spin_lock lock;
    lock.lock();
    bool entered = false;
    std::thread waiter([&] {
        std::lock_guard held(lock); // spins, then yields while the holder sleeps
        entered = true;
    });
    std::this_thread::sleep_for(std::chrono::milliseconds(20));
    lock.unlock();
    waiter.join(); // bounded: ctest's timeout catches a waiter that never gets in
    CHECK(entered);
}
