// store::memory: counters and values in this process, shared by every thread. Keys are spread
// over shards, each with its own lock, so calls for different users rarely wait for each other
// and no lock covers the whole store.
#pragma once

#include <llm/store/store.hpp>

#include <algorithm>     // std::max
#include <bit>           // std::bit_ceil
#include <cstddef>       // std::size_t
#include <functional>    // std::hash<string_view>
#include <memory>        // std::shared_ptr
#include <mutex>         // std::mutex
#include <thread>        // hardware_concurrency
#include <unordered_map> // a shard's keys

namespace llm::store {

class memory {
public:
    memory() : memory(0) {}
    // shards == 0 picks a number suited to the machine's threads; any number is rounded up to a
    // power of two, so that picking a key's shard is a mask, not a division.
    explicit memory(std::size_t shards) : state_(std::make_shared<state>(shards)) {}

    template <store_operation Op>
    result<outcomes<typename Op::outcome>> apply(std::span<const step<Op>> batch, time_point now) const
    {
        outcomes<typename Op::outcome> done;
        for (const auto& s : batch)
            done.push_back(apply_one(s, now));
        return done;
    }

    result<std::optional<std::string>> get(std::string_view key, time_point now) const
    {
        const hashed k(key);
        auto& sh = state_->shard_of(k);
        std::lock_guard lock(sh.mutex);
        auto it = sh.entries.find(k);
        if (it == sh.entries.end() || it->second.expires <= now)
            return std::optional<std::string>{};
        return std::optional<std::string>{it->second.text};
    }

    result<void> put(std::string_view key, std::string_view value, std::chrono::milliseconds ttl, time_point now) const
    {
        const hashed k(key);
        auto& sh = state_->shard_of(k);
        std::lock_guard lock(sh.mutex);
        if (ttl <= std::chrono::milliseconds::zero()) {
            erase(sh, k);
            return success();
        }
        auto& e = find_or_add(sh, k, now);
        e.text.assign(value);
        e.expires = now + ttl;
        return success();
    }

    // Keys currently held, expired ones not yet swept included; for tests and monitoring.
    std::size_t size() const
    {
        std::size_t n = 0;
        for (std::size_t i = 0; i < state_->count; ++i) {
            std::lock_guard lock(state_->shards[i].mutex);
            n += state_->shards[i].entries.size();
        }
        return n;
    }

private:
    struct entry {
        cell numbers;
        std::string text;
        time_point expires;
    };

    // A key with its hash, computed once to pick the shard and again serve the shard's map.
    struct hashed {
        explicit hashed(std::string_view k) noexcept : text(k), hash(std::hash<std::string_view>{}(k)) {}
        std::string_view text;
        std::size_t hash;
    };

    struct key_hash {
        using is_transparent = void;
        std::size_t operator()(const hashed& k) const noexcept { return k.hash; }
        std::size_t operator()(const std::string& k) const noexcept { return hashed(k).hash; }
    };

    struct key_equal {
        using is_transparent = void;
        bool operator()(const std::string& a, const hashed& b) const noexcept { return a == b.text; }
        bool operator()(const hashed& a, const std::string& b) const noexcept { return a.text == b; }
        bool operator()(const std::string& a, const std::string& b) const noexcept { return a == b; }
    };

    // Padded to a cache line each, so two threads on two shards do not share one.
    struct alignas(64) shard {
        std::mutex mutex;
        std::unordered_map<std::string, entry, key_hash, key_equal> entries;
        std::size_t sweep_at = 64; // the next size at which expired entries are dropped
    };

    struct state {
        explicit state(std::size_t wanted)
            : count(
                  std::bit_ceil(wanted ? wanted : std::max<std::size_t>(16, 4 * std::thread::hardware_concurrency()))),
              shards(std::make_unique<shard[]>(count))
        {
        }
        std::size_t count;
        std::unique_ptr<shard[]> shards;

        // The map's buckets use the hash's low bits too; these high ones keep shards independent.
        shard& shard_of(const hashed& key) noexcept { return shards[(key.hash >> 32) & (count - 1)]; }
    };

    template <class Op>
    typename Op::outcome apply_one(const step<Op>& s, time_point now) const
    {
        const hashed key(s.key);
        auto& sh = state_->shard_of(key);
        std::lock_guard lock(sh.mutex);
        auto it = sh.entries.find(key);
        if (it != sh.entries.end() && it->second.expires <= now)
            it->second.numbers.clear(); // expired: the operation sees an absent key
        if (it == sh.entries.end()) {
            cell fresh;
            auto outcome = s.op.apply(fresh, now);
            if (outcome.keep > std::chrono::milliseconds::zero() && !fresh.empty()) {
                auto& e = find_or_add(sh, key, now);
                e.numbers = std::move(fresh);
                e.expires = now + outcome.keep;
            }
            return outcome;
        }
        auto outcome = s.op.apply(it->second.numbers, now);
        if (outcome.keep > std::chrono::milliseconds::zero() && !it->second.numbers.empty())
            it->second.expires = now + outcome.keep;
        else
            sh.entries.erase(it);
        return outcome;
    }

    // Adding is where the map grows, so it is also where expired entries are swept: each sweep
    // happens after the shard doubled, which keeps its cost constant per insertion.
    static entry& find_or_add(shard& sh, const hashed& key, time_point now)
    {
        if (auto it = sh.entries.find(key); it != sh.entries.end())
            return it->second;
        if (sh.entries.size() >= sh.sweep_at) {
            std::erase_if(sh.entries, [&](const auto& kv) { return kv.second.expires <= now; });
            sh.sweep_at = std::max<std::size_t>(64, 2 * sh.entries.size());
        }
        return sh.entries.emplace(std::string(key.text), entry{}).first->second;
    }

    static void erase(shard& sh, const hashed& key)
    {
        if (auto it = sh.entries.find(key); it != sh.entries.end())
            sh.entries.erase(it);
    }

    std::shared_ptr<state> state_;
};

static_assert(store_backend<memory>);

} // namespace llm::store
