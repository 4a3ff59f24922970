// store::memory: counters and values in this process, shared by every thread. Keys are spread
// over shards, each with its own lock, so calls for different users rarely wait for each other
// and no lock covers the whole store. A shard is an open-addressing table of each key's hash
// beside its entry: a lookup reads one slot, then the entry that holds the key's text and its
// numbers, where a node-based map would follow a bucket, a node and the text apart.
#pragma once

#include <llm/config.hpp>
#include <llm/detail/spin_lock.hpp>
#include <llm/store/store.hpp>

#include <algorithm> // std::min, std::max
#include <bit>       // std::bit_ceil
#include <cstddef>   // std::size_t
#include <cstring>   // std::memcpy
#include <memory>    // std::shared_ptr
#include <mutex>     // std::lock_guard
#include <thread>    // hardware_concurrency
#include <vector>    // a shard's slots

namespace llm::store {

namespace detail {

// Equal keys, compared inline: the library's memcmp is a call. Keys of 8 to 32 bytes, nearly
// all of them, are compared as four words that cover them (overlapping when shorter), without
// a branch on each word.
LLM_ALWAYS_INLINE bool same_text(std::string_view a, std::string_view b) noexcept
{
    const std::size_t n = a.size();
    if (n != b.size())
        return false;
    if (n < 8 || n > 32)
        return a == b;
    const auto word = [](std::string_view s, std::size_t at) {
        std::uint64_t w;
        std::memcpy(&w, s.data() + at, sizeof w);
        return w;
    };
    const std::size_t second = std::min<std::size_t>(8, n - 8), third = n < 16 ? 0 : n - 16;
    return ((word(a, 0) ^ word(b, 0)) | (word(a, second) ^ word(b, second)) | (word(a, third) ^ word(b, third)) |
            (word(a, n - 8) ^ word(b, n - 8))) == 0;
}

} // namespace detail

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
            done.assume_value().push_back(apply_one(s.key, s.op, now));
        return done;
    }

    // One operation on one key, answered at once: it cannot fail. Policies call it directly
    // (store::applies_directly), without a batch of steps or a result around the outcomes.
    template <store_operation Op>
    typename Op::outcome apply_one(std::string_view name, const Op& op, time_point now) const
    {
        const hashed key(name, state_->seed);
        auto& sh = state_->shard_of(key);
        std::lock_guard held(sh.lock);
        entry* e = sh.entries.find(key);
        if (e && e->expires <= now)
            e->numbers.clear(); // expired: the operation sees an absent key
        cell fresh;
        cell& numbers = e ? e->numbers : fresh;
        // One outcome returned on every path, so that the operation writes it where the caller
        // wants it: a copy would read back at once, and wider, what the operation just wrote.
        typename Op::outcome outcome = op.apply(numbers, now);
        const bool keep = outcome.keep > std::chrono::milliseconds::zero() && !numbers.empty();
        if (!e) {
            if (keep) {
                auto& added = add(sh, key, now);
                added.numbers = std::move(fresh);
                added.expires = now + outcome.keep;
            }
        } else if (keep) {
            e->expires = now + outcome.keep;
        } else {
            sh.entries.erase(key);
        }
        return outcome;
    }

    result<std::optional<std::string>> get(std::string_view key, time_point now) const
    {
        const hashed k(key, state_->seed);
        auto& sh = state_->shard_of(k);
        std::lock_guard held(sh.lock);
        const entry* e = sh.entries.find(k);
        if (!e || e->expires <= now)
            return std::optional<std::string>{};
        return std::optional<std::string>{e->text};
    }

    result<void> put(std::string_view key, std::string_view value, std::chrono::milliseconds ttl, time_point now) const
    {
        const hashed k(key, state_->seed);
        auto& sh = state_->shard_of(k);
        std::lock_guard held(sh.lock);
        if (ttl <= std::chrono::milliseconds::zero()) {
            sh.entries.erase(k);
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
        key_text key;
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

    // One shard's keys: slots of a hash and the entry it belongs to, a power of two of them,
    // found by linear probing and never more than half full. Erasing moves the rest of a run back
    // into the gap, so no slot is ever a tombstone and a miss stops at the first empty slot.
    class table {
    public:
        LLM_ALWAYS_INLINE entry* find(const hashed& key) const noexcept
        {
            const slot* s = slot_of(key);
            return s ? s->e.get() : nullptr;
        }

        // Adds the key, which must be absent.
        entry& add(const hashed& key)
        {
            if (2 * (count_ + 1) > slots_.size())
                rehash(std::max<std::size_t>(16, 2 * slots_.size()));
            auto e = std::make_unique<entry>();
            e->key = key.text;
            entry& added = *e;
            place(slot{key.hash, std::move(e)});
            ++count_;
            return added;
        }

        void erase(const hashed& key) noexcept
        {
            if (const slot* s = slot_of(key))
                erase_at(static_cast<std::size_t>(s - slots_.data()));
        }

        // Drops every entry for which drop(entry) is true, and sizes the slots for the rest.
        template <class Drop>
        void erase_if(Drop drop)
        {
            for (auto& s : slots_)
                if (s.e && drop(*s.e)) {
                    s.e.reset();
                    --count_;
                }
            rehash(std::max<std::size_t>(16, std::bit_ceil(2 * count_ + 1)));
        }

        std::size_t size() const noexcept { return count_; }

    private:
        struct slot {
            std::size_t hash = 0;
            std::unique_ptr<entry> e; // null: the slot is empty
        };

        std::size_t mask() const noexcept { return slots_.size() - 1; }

        // The slot holding the key, or null: the probe stops at the first empty slot. Inline, as
        // a call would cost a good part of the lookup.
        LLM_ALWAYS_INLINE const slot* slot_of(const hashed& key) const noexcept
        {
            if (slots_.empty())
                return nullptr;
            for (std::size_t i = key.hash & mask();; i = (i + 1) & mask()) {
                const slot& s = slots_[i];
                if (!s.e)
                    return nullptr;
                if (s.hash == key.hash && detail::same_text(s.e->key, key.text))
                    return &s;
            }
        }

        void place(slot&& s) noexcept
        {
            std::size_t i = s.hash & mask();
            while (slots_[i].e)
                i = (i + 1) & mask();
            slots_[i] = std::move(s);
        }

        void rehash(std::size_t size)
        {
            std::vector<slot> old = std::move(slots_);
            slots_.clear();
            slots_.resize(size);
            for (auto& s : old)
                if (s.e)
                    place(std::move(s));
        }

        // Empties slot i, then moves back each later slot of the run that may sit there: one
        // whose home is not between the gap and where it is now (cyclically).
        void erase_at(std::size_t i) noexcept
        {
            slots_[i].e.reset();
            --count_;
            for (std::size_t j = (i + 1) & mask(); slots_[j].e; j = (j + 1) & mask()) {
                const std::size_t home = slots_[j].hash & mask();
                const bool stays = i <= j ? (i < home && home <= j) : (i < home || home <= j);
                if (!stays) {
                    slots_[i] = std::move(slots_[j]);
                    i = j;
                }
            }
        }

        std::vector<slot> slots_;
        std::size_t count_ = 0;
    };

    // Padded to a cache line each, so two threads on two shards do not share one.
    struct alignas(64) shard {
        llm::detail::spin_lock lock; // held for a lookup, then a few numbers' arithmetic or a value's copy
        table entries;
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
        }
        std::size_t count;
        std::unique_ptr<shard[]> shards;
        std::uint64_t seed;

        shard& shard_of(const hashed& key) noexcept { return shards[(key.hash >> 32) & (count - 1)]; }
    };

    static entry& find_or_add(shard& sh, const hashed& key, time_point now)
    {
        if (entry* e = sh.entries.find(key))
            return *e;
        return add(sh, key, now);
    }

    // Adds a key that is absent. Adding is where the table grows, so it is also where expired
    // entries are swept: each sweep happens after the shard doubled, which keeps its cost
    // constant per insertion.
    static entry& add(shard& sh, const hashed& key, time_point now)
    {
        if (sh.entries.size() >= sh.sweep_at) {
            sh.entries.erase_if([&](const entry& e) { return e.expires <= now; });
            sh.sweep_at = std::max<std::size_t>(64, 2 * sh.entries.size());
        }
        return sh.entries.add(key);
    }

    std::shared_ptr<state> state_;
};

static_assert(store_backend<memory>);

} // namespace llm::store
