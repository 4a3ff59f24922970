// A lock for critical sections of a few dozen nanoseconds, such as store::memory's shards: taking
// and leaving it is one atomic exchange and one plain store, where a std::mutex pays for two
// atomic operations and two calls into the C library, as much as the work it guards.
//
// A waiter spins briefly, then yields its core on every further try, so a holder that was
// descheduled (or busy sweeping a large shard) gets the processor back instead of being starved.
#pragma once

#include <llm/config.hpp>

#include <atomic> // the flag
#include <thread> // std::this_thread::yield

namespace llm::detail {

class spin_lock {
public:
    // Inlined where it is taken: uncontended, it is the one exchange.
    LLM_ALWAYS_INLINE void lock() noexcept
    {
        if (held_.exchange(true, std::memory_order_acquire)) [[unlikely]]
            wait();
    }

    bool try_lock() noexcept
    {
        return !held_.load(std::memory_order_relaxed) && !held_.exchange(true, std::memory_order_acquire);
    }

    void unlock() noexcept { held_.store(false, std::memory_order_release); }

private:
    // Held by another: spin a little, then yield, until it is left. Apart from lock(), so that
    // the inlined part stays one exchange and a branch.
    void wait() noexcept
    {
        int spins = 0;
        do
            while (held_.load(std::memory_order_relaxed)) // wait reading, not writing, the line
                if (++spins < 64)
                    pause();
                else
                    std::this_thread::yield();
        while (held_.exchange(true, std::memory_order_acquire));
    }

    // Tells the core this is a wait loop: it slows the loop and frees resources for the holder.
    static void pause() noexcept
    {
#if defined(__x86_64__) || defined(__i386__)
        __builtin_ia32_pause();
#elif defined(__aarch64__)
        asm volatile("yield");
#endif
    }

    std::atomic<bool> held_{false};
};

} // namespace llm::detail
