// Policies that write what they are asked into a shared log, so tests can prove the order
// of the pipeline's stages. They are real policies: each satisfies its concept and can be
// told to refuse.
#pragma once

#include <llm/policy/budget.hpp>
#include <llm/policy/cache.hpp>
#include <llm/policy/observe.hpp>
#include <llm/policy/rate_limit.hpp>
#include <llm/policy/retry.hpp>

#include <map>
#include <memory>
#include <mutex>
#include <string>
#include <vector>

namespace llm::test {

// Thread-safe, shared by the policies of one client.
class journal {
public:
    void write(std::string entry)
    {
        std::lock_guard lock(mutex_);
        entries_.push_back(std::move(entry));
    }
    std::vector<std::string> entries() const
    {
        std::lock_guard lock(mutex_);
        return entries_;
    }
    void clear()
    {
        std::lock_guard lock(mutex_);
        entries_.clear();
    }

private:
    mutable std::mutex mutex_;
    std::vector<std::string> entries_;
};

struct recording_rate_limit {
    std::shared_ptr<journal> log;
    bool refuse = false;

    result<void> acquire(const request&, time_point)
    {
        log->write("rate_limit.acquire");
        if (!refuse)
            return success();
        error e{errc::rate_limited, "recording_rate_limit refuses"};
        e.retry_after = std::chrono::seconds(7);
        return e;
    }
};

struct recording_budget {
    struct reservation {
        std::uint64_t tokens = 0;
    };
    std::shared_ptr<journal> log;
    bool refuse = false;
    std::shared_ptr<usage> committed = std::make_shared<usage>();

    result<reservation> reserve(request& r, time_point)
    {
        log->write("budget.reserve");
        if (refuse)
            return error{errc::budget_exceeded, "recording_budget refuses"};
        return reservation{r.max_tokens.value_or(100)};
    }
    void commit(reservation, const usage& used, time_point)
    {
        log->write("budget.commit");
        *committed += used;
    }
    void release(reservation, time_point) { log->write("budget.release"); }
};

// An exact-match cache keyed by the last message's text.
struct recording_cache {
    std::shared_ptr<journal> log;
    std::shared_ptr<std::map<std::string, response>> entries = std::make_shared<std::map<std::string, response>>();

    std::optional<response> lookup(const request& r, time_point)
    {
        log->write("cache.lookup");
        auto it = entries->find(r.messages.back().text);
        if (it == entries->end())
            return std::nullopt;
        return it->second;
    }
    void store(const request& r, const response& answer, time_point)
    {
        log->write("cache.store");
        (*entries)[r.messages.back().text] = answer;
    }
};

// Retries up to `attempts` times in all, after a fixed delay.
struct recording_retry {
    std::shared_ptr<journal> log;
    unsigned attempts = 3;
    std::chrono::milliseconds delay{10};

    std::optional<std::chrono::milliseconds> next_delay(const retry::attempt& a, const error&)
    {
        log->write("retry.next_delay");
        if (a.number >= attempts)
            return std::nullopt;
        return delay;
    }
};

struct recording_observer {
    std::shared_ptr<journal> log;
    void on_event(const observe::event& e) { log->write("observe." + std::string(observe::to_string(e.stage))); }
};

static_assert(rate_limit_policy<recording_rate_limit> && budget_policy<recording_budget> &&
              cache_policy<recording_cache> && retry_policy<recording_retry> && observer<recording_observer>);

} // namespace llm::test
