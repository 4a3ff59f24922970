// store::memory: counters and values in this process, shared by every thread. Keys are spread
// over shards, each with its own lock, so calls for different users rarely wait for each other
// and no lock covers the whole store.
#pragma once

#include <llm/detail/spin_lock.hpp>
#include <llm/store/store.hpp>

#include <algorithm>     // std::max
#include <bit>           // std::bit_ceil
#include <cstddef>       // std::size_t
#include <cstring>       // std::memcpy
#include <memory>        // std::shared_ptr
#include <mutex>         // std::lock_guard
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
        // Made inside the result that returns it: moving the outcomes in would copy each.
        result<outcomes<typename Op::outcome>> done(std::in_place_type<outcomes<typename Op::outcome>>);
        for (const auto& s : batch)
            done.assume_value().push_back(apply_one(s, now));
        return done;
    }

    result<std::optional<std::string>> get(std::string_view key, time_point now) const
    {
        const hashed k(key, state_->seed);
        auto& sh = state_->shard_of(k);
        std::lock_guard held(sh.lock);
        auto it = sh.entries.find(k);
        if (it == sh.entries.end() || it->second.expires <= now)
            return std::optional<std::string>{};
        return std::optional<std::string>{it->second.text};
    }

    result<void> put(std::string_view key, std::string_view value, std::chrono::milliseconds ttl, time_point now) const
    {
        const hashed k(key, state_->seed);
        auto& sh = state_->shard_of(k);
        std::lock_guard held(sh.lock);
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
            std::lock_guard held(state_->shards[i].lock);
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
        hashed(std::string_view k, std::uint64_t seed) noexcept : text(k), hash(hash_of(k, seed)) {}
        std::string_view text;
        std::size_t hash;
    };

    // Keys are a few dozen bytes: one 64 × 64 → 128-bit multiplication per 16 of them, inline,
    // where the standard hash is a call into the library. Seeded per store, so that ids chosen to
    // collide in one process do not in another.
    static std::uint64_t hash_of(std::string_view text, std::uint64_t seed) noexcept
    {
        const auto mix = [](std::uint64_t a, std::uint64_t b) {
            __extension__ using wide = unsigned __int128;
            const auto product = static_cast<wide>(a) * b;
            return static_cast<std::uint64_t>(product) ^ static_cast<std::uint64_t>(product >> 64);
        };
        const auto word = [](const char* at) {
            std::uint64_t w;
            std::memcpy(&w, at, sizeof w);
            return w;
        };
        constexpr std::uint64_t k0 = 0x9e3779b97f4a7c15, k1 = 0xbf58476d1ce4e5b9, k2 = 0x94d049bb133111eb;
        const char* p = text.data();
        std::size_t n = text.size();
        std::uint64_t h = seed ^ mix(n ^ k0, k1);
        for (; n > 16; n -= 16, p += 16)
            h = mix(word(p) ^ k1 ^ seed, word(p + 8) ^ h); // seeded both sides: no known word zeroes it
        std::uint64_t a = 0, b = 0;                        // the last 1 to 16 bytes, read as two words that may overlap
        if (n >= 8) {
            a = word(p);
            b = word(p + n - 8);
        } else if (n >= 4) {
            std::uint32_t x, y;
            std::memcpy(&x, p, 4);
            std::memcpy(&y, p + n - 4, 4);
            a = x;
            b = y;
        } else if (n > 0) {
            a = static_cast<std::uint64_t>(static_cast<unsigned char>(p[0])) << 16 |
                static_cast<std::uint64_t>(static_cast<unsigned char>(p[n / 2])) << 8 |
                static_cast<unsigned char>(p[n - 1]);
        }
        return mix(mix(a ^ k2 ^ seed, b ^ h), k0 ^ text.size());
    }

    // Equal keys, compared inline a word at a time (the library's memcmp is a call).
    static bool same(std::string_view a, std::string_view b) noexcept
    {
        if (a.size() != b.size())
            return false;
        if (a.size() < 8)
            return a == b;
        std::size_t i = 0;
        std::uint64_t x, y;
        for (; i + 8 < a.size(); i += 8) {
            std::memcpy(&x, a.data() + i, 8);
            std::memcpy(&y, b.data() + i, 8);
            if (x != y)
                return false;
        }
        std::memcpy(&x, a.data() + a.size() - 8, 8);
        std::memcpy(&y, b.data() + b.size() - 8, 8);
        return x == y;
    }

    struct key_hash {
        using is_transparent = void;
        // Declared apart: the map asks whether one can be made by default before memory is
        // complete, when a default argument or member initialiser is not yet known.
        key_hash() noexcept : seed(0) {}
        explicit key_hash(std::uint64_t s) noexcept : seed(s) {}
        std::uint64_t seed;
        std::size_t operator()(const hashed& k) const noexcept { return k.hash; }
        std::size_t operator()(const std::string& k) const noexcept { return hash_of(k, seed); }
    };

    struct key_equal {
        using is_transparent = void;
        bool operator()(const std::string& a, const hashed& b) const noexcept { return same(a, b.text); }
        bool operator()(const hashed& a, const std::string& b) const noexcept { return same(a.text, b); }
        bool operator()(const std::string& a, const std::string& b) const noexcept { return same(a, b); }
    };

    // Padded to a cache line each, so two threads on two shards do not share one.
    struct alignas(64) shard {
        llm::detail::spin_lock lock; // held for a lookup, then a few numbers' arithmetic or a value's copy
        std::unordered_map<std::string, entry, key_hash, key_equal> entries;
        std::size_t sweep_at = 64; // the next size at which expired entries are dropped
    };

    struct state {
        explicit state(std::size_t wanted)
            : count(
                  std::bit_ceil(wanted ? wanted : std::max<std::size_t>(16, 4 * std::thread::hardware_concurrency()))),
              shards(std::make_unique<shard[]>(count)),
              // Differs per process (the address, with ASLR) and per store (the time).
              seed(reinterpret_cast<std::uintptr_t>(this) ^
                   static_cast<std::uint64_t>(std::chrono::steady_clock::now().time_since_epoch().count()))
        {
            for (std::size_t i = 0; i < count; ++i)
                shards[i].entries = decltype(shard::entries)(0, key_hash{seed});
        }
        std::size_t count;
        std::unique_ptr<shard[]> shards;
        std::uint64_t seed;

        shard& shard_of(const hashed& key) noexcept { return shards[(key.hash >> 32) & (count - 1)]; }
    };

    template <class Op>
    typename Op::outcome apply_one(const step<Op>& s, time_point now) const
    {
        const hashed key(s.key, state_->seed);
        auto& sh = state_->shard_of(key);
        std::lock_guard held(sh.lock);
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
