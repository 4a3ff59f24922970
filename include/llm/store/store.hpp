// Store: where rate limits, budgets and caches keep their state, so that concurrent calls, a
// restart, or many service replicas see the same numbers.
//
// Counters change through *operations*: small pure functions over a cell (the few numbers kept
// under one key), which a store applies atomically, key by key. Each operation is written twice:
// in C++, which store::memory and store::sqlite run under their own lock or transaction, and in
// Lua, which store::redis runs as a script so that replicas never race. The tests run every
// operation on every store and require the same outcomes.
//
// Besides counters a store keeps plain values with a time to live (get/put), for caches.
#pragma once

#include <llm/core/clock.hpp>
#include <llm/core/result.hpp>
#include <llm/detail/hook.hpp>
#include <llm/detail/inline_vector.hpp>
#include <llm/detail/small_string.hpp>

#include <algorithm>   // std::copy
#include <array>       // joined scripts
#include <chrono>      // milliseconds
#include <concepts>    // copyable, same_as
#include <cstdint>     // std::int64_t
#include <cstring>     // std::memcpy
#include <optional>    // get
#include <span>        // steps, replies
#include <string>      // keys, values
#include <string_view> // keys, scripts
#include <type_traits> // invoke_result_t
#include <utility>     // std::move
#include <vector>      // cell

namespace llm::store {

// The numbers an operation keeps under one key; empty when the key is absent or expired.
using cell = std::vector<double>;

// A key's name. Most fit in place, so naming the keys of a call allocates nothing.
using key_text = detail::small_string<56>;

// One operation on one key.
template <class Op>
struct step {
    // Builds the key in place, from a key_text or any text.
    template <class Key, class O = Op>
    requires(!std::is_invocable_v<Key&>) step(Key&& k, O&& o) : key(std::forward<Key>(k)), op(std::forward<O>(o)) {}

    // Names the key with what name() returns, made where it stays: a key just written and then
    // moved costs a stall as its bytes are read back before they reach the cache.
    template <class Name, class O = Op>
    requires std::is_invocable_r_v<key_text, Name&> step(Name&& name, O&& o) : key(name()), op(std::forward<O>(o)) {}

    key_text key;
    Op op;
};

// A call touches one key per scope (user, tenant, feature or custom key, global) at most.
inline constexpr std::size_t max_steps = 4;

template <class Op>
using steps = detail::inline_vector<step<Op>, max_steps>;

template <class Outcome>
using outcomes = detail::inline_vector<Outcome, max_steps>;

// Operations and stores agree on time in whole milliseconds since the epoch: Redis's Lua
// numbers are doubles, exact for these, and every replica computes with the same values.
inline double milliseconds_of(time_point t) noexcept
{
    // Counted in integers, then converted: exact, where dividing a double of nanoseconds is not.
    return static_cast<double>(std::chrono::floor<std::chrono::milliseconds>(t.time_since_epoch()).count());
}

// The Lua every operation's script can call: a cell is its numbers as little-endian IEEE
// doubles under its key (Redis's struct library packs them without loss, and several times
// faster than formatting text), kept `keep` milliseconds (nothing is kept for zero or less).
// The formats are made once per script call, and the math functions are locals: a script runs
// once per step, and Lua looks up globals by name.
inline constexpr std::string_view lua_cells = R"lua(
local min, max, floor, ceil, fmod = math.min, math.max, math.floor, math.ceil, math.fmod
local formats = {}
local function format_of(n)
  local f = formats[n]
  if not f then
    f = '<' .. string.rep('d', n)
    formats[n] = f
  end
  return f
end
local function unpack_numbers(raw)
  local numbers = {struct.unpack(format_of(#raw / 8), raw)}
  numbers[#numbers] = nil -- unpack ends with the position after the last number
  return numbers
end
local function load_cell(key)
  local raw = redis.call('GET', key)
  if not raw or #raw == 0 or #raw % 8 ~= 0 then return {} end
  return unpack_numbers(raw)
end
local function save_cell(key, cell, keep)
  if keep <= 0 or #cell == 0 then
    redis.call('DEL', key)
    return
  end
  redis.call('SET', key, struct.pack(format_of(#cell), unpack(cell)), 'PX', ceil(keep))
end
)lua";

} // namespace llm::store

namespace llm {

// An operation a store can apply to a key:
//   apply(cell&, now) -> outcome   reads and rewrites the cell (empty when absent); the outcome
//                                  says what happened and, in `keep`, how long the cell must
//                                  live from now (zero or less: remove it)
//   script                         the same as Lua: the body of a function of `key` and ARGV
//                                  (ARGV[1] `now`, ARGV[2...] arguments(), all numbers), with
//                                  store::lua_cells defined; it ends by returning an array of
//                                  integers that decode() turns into the same outcome
//   arguments(push)                calls push(double) for each argument of the script
template <class Op>
concept store_operation = std::copyable<Op> &&
    requires(const Op& op, store::cell& c, time_point now, std::span<const std::int64_t> reply, void (*push)(double))
{
    typename Op::outcome;
    {
        op.apply(c, now)
        } -> std::same_as<typename Op::outcome>;
    {
        std::declval<typename Op::outcome&>().keep
        } -> std::convertible_to<std::chrono::milliseconds>;
    {
        Op::script
        } -> std::convertible_to<std::string_view>;
    op.arguments(push);
    {
        Op::decode(reply)
        } -> std::same_as<result<typename Op::outcome>>;
};

namespace store {

// The simplest operation: adds `delta` to an integer counter that lives `keep` from its last
// change. Per-identity totals use it, and the store concept is checked against it.
struct add {
    std::int64_t delta = 0;
    std::chrono::milliseconds keep{};

    struct outcome {
        std::int64_t total = 0;
        std::chrono::milliseconds keep{};
    };

    outcome apply(cell& c, time_point) const
    {
        c.resize(1);
        c[0] += static_cast<double>(delta);
        return {static_cast<std::int64_t>(c[0]), keep};
    }

    static constexpr std::string_view script = R"lua(
local cell = load_cell(key)
cell[1] = (cell[1] or 0) + ARGV[2]
save_cell(key, cell, ARGV[3])
return {cell[1]}
)lua";

    template <class Push>
    void arguments(Push&& push) const
    {
        push(static_cast<double>(delta));
        push(static_cast<double>(keep.count()));
    }

    static result<outcome> decode(std::span<const std::int64_t> reply)
    {
        if (reply.size() != 1)
            return fail(errc::internal_error,
                        "store::add: the script answered " + std::to_string(reply.size()) + " numbers, expected 1");
        return outcome{reply[0], {}};
    }
};

} // namespace store

// A store: a copyable handle (copies share the same state), used from many threads at once.
//   apply(steps, now)        applies each step's operation to its key, atomically per key, and
//                            returns their outcomes in order; a failure means the store could
//                            not be reached or read, not that an operation said no
//   get(key, now)            the value stored under key, nullopt when absent or expired
//   put(key, value, ttl, now) stores value for ttl
// Each may return its result directly, or as asio::awaitable<...> (a store behind a network).
template <class S>
concept store_backend = std::copyable<S> &&
    requires(S& s, std::span<const store::step<store::add>> steps, std::string_view key, std::string_view value,
             std::chrono::milliseconds ttl, time_point now)
{
    {
        s.apply(steps, now)
        } -> detail::hook_returning<result<store::outcomes<store::add::outcome>>>;
    {
        s.get(key, now)
        } -> detail::hook_returning<result<std::optional<std::string>>>;
    {
        s.put(key, value, ttl, now)
        } -> detail::hook_returning<result<void>>;
};

} // namespace llm

namespace llm::store {

// The parts of a scope's keys around the id, made once by a policy: "llm:{u:" before it and
// "}:rate0" after, for keys like "llm:{u:alice}:rate0". The scope sits between braces, Redis's
// hash tag, so every key of one scope lands on one Redis Cluster slot and a script may touch
// them together. Braces, '%' and control bytes in the id are percent-encoded, so no id can end
// the tag early or pose as another scope.
class key_frame {
public:
    key_frame(std::string_view prefix, std::string_view scope, std::string_view what)
    {
        head_.append(prefix).append(":{").append(scope).append(':');
        tail_.append("}:").append(what);
        short_parts_ = head_.size() <= part_width && tail_.size() <= part_width;
        if (short_parts_) {
            std::memcpy(short_head_, head_.data(), head_.size());
            std::memcpy(short_tail_, tail_.data(), tail_.size());
        }
    }

    // The key of `id`, with `more` after the frame's own tail (a budget names its window so).
    key_text operator()(std::string_view id, std::string_view more = {}) const
    {
        if (needs_escaping(id)) [[unlikely]]
            return join_escaped(id, more);
        if (short_parts_ && id.size() + more.size() <= key_text::inline_capacity - 2 * part_width) [[likely]]
            return join_short(id, more);
        return join(id, more);
    }

private:
    // Frame parts up to this long are kept in arrays of this size and copied whole, as two fixed
    // moves, each part's end then written over by the next: the usual key costs a few moves
    // instead of a branch on each part's length. With the head and the tail at most this long
    // and the id and `more` at most key_text's buffer less twice this, every whole copy stays
    // inside that buffer.
    static constexpr std::size_t part_width = 16;

    key_text join_short(std::string_view id, std::string_view more) const
    {
        key_text key;
        char* out = key.extend_inline(head_.size() + id.size() + tail_.size() + more.size());
        std::memcpy(out, short_head_, part_width);
        out = copy(out + head_.size(), id);
        std::memcpy(out, short_tail_, part_width);
        copy(out + tail_.size(), more);
        return key;
    }

    key_text join(std::string_view id, std::string_view more) const
    {
        key_text key;
        char* out = key.extend(head_.size() + id.size() + tail_.size() + more.size());
        out = copy(out, head_);
        out = copy(out, id);
        out = copy(out, tail_);
        copy(out, more);
        return key;
    }

    // Kept out of line: the rare path's string would otherwise cost every call a larger frame.
    LLM_NOINLINE key_text join_escaped(std::string_view id, std::string_view more) const
    {
        return join(escape(id), more);
    }

    // The bytes that could end the tag early or pose as an escape: braces, '%', control bytes.
    // Numbers rather than bools, so that four lookups combine with one `|` each.
    static constexpr auto escaped = [] {
        std::array<unsigned char, 256> table{};
        for (int b = 0; b < 0x20; ++b)
            table[static_cast<std::size_t>(b)] = 1;
        for (const char b : {'{', '}', '%', '\x7f'})
            table[static_cast<unsigned char>(b)] = 1;
        return table;
    }();

    // Ids are short and seldom need escaping: bytes are looked up four at a time, with one
    // branch for the four.
    static bool needs_escaping(std::string_view id) noexcept
    {
        const auto at = [&](std::size_t i) { return escaped[static_cast<unsigned char>(id[i])]; };
        const std::size_t n = id.size();
        std::size_t i = 0;
        for (; i + 4 <= n; i += 4)
            if (at(i) | at(i + 1) | at(i + 2) | at(i + 3))
                return true;
        int any = 0;
        for (; i < n; ++i)
            any |= at(i);
        return any != 0;
    }

    // The id with each byte of `escaped` percent-encoded: the rare path, kept out of join().
    static std::string escape(std::string_view id)
    {
        std::string out;
        for (const char ch : id) {
            if (escaped[static_cast<unsigned char>(ch)]) {
                constexpr char hex[] = "0123456789ABCDEF";
                const auto byte = static_cast<unsigned char>(ch);
                out += '%';
                out += hex[byte >> 4];
                out += hex[byte & 0xf];
            } else {
                out += ch;
            }
        }
        return out;
    }

    // One part of the key: a few bytes, copied inline (a call would cost more than the copy).
    LLM_ALWAYS_INLINE static char* copy(char* out, std::string_view part) noexcept
    {
        return llm::detail::copy_short(out, part.data(), part.size());
    }

    key_text head_;
    key_text tail_;
    bool short_parts_ = false;
    char short_head_[part_width] = {}; // head_ and tail_ when they fit, zero-padded
    char short_tail_[part_width] = {};
};

// The name of a key of one scope, e.g. "llm:{u:alice}:budget:d20781" (see key_frame).
inline key_text scoped_key(std::string_view prefix, std::string_view scope, std::string_view id, std::string_view what)
{
    return key_frame(prefix, scope, what)(id);
}

// The id a scoped_key() names, decoded: how an alert names whom it is about without the call
// keeping the id beside the key.
inline std::string id_in(std::string_view key, std::string_view prefix)
{
    std::string id;
    const auto from = prefix.size() + 4; // past "prefix:{s:"
    const auto to = key.find('}', from); // an id's own braces are encoded
    if (from > key.size() || to == std::string_view::npos)
        return id;
    for (auto i = from; i < to; ++i) {
        if (key[i] == '%' && i + 2 < to) {
            const auto digit = [](char c) { return c <= '9' ? c - '0' : c - 'A' + 10; };
            id.push_back(static_cast<char>(digit(key[i + 1]) * 16 + digit(key[i + 2])));
            i += 2;
        } else {
            id.push_back(key[i]);
        }
    }
    return id;
}

// True for a store behind a network, whose answers are awaitables.
template <class Store>
inline constexpr bool answers_later =
    llm::detail::is_awaitable<decltype(std::declval<Store&>().get(std::string_view{}, time_point{}))>::value;

// A store that applies one operation to one key at once and cannot fail (store::memory): a
// policy calls its apply_one(key, op, now) directly, with no batch of steps to build and no
// result around the outcomes, and builds its keys where they stay.
template <class Store, class Op>
concept applies_directly = requires(const Store& s, std::string_view key, const Op& op, time_point now)
{
    {
        s.apply_one(key, op, now)
        } -> std::same_as<typename Op::outcome>;
};

// Store::apply on a batch of steps: the span it takes, over the steps' own storage. The steps
// must outlive the first suspension of a store that answers later (apply_then keeps them so).
template <class Store, class Op>
auto apply_batch(Store& s, const steps<Op>& batch, time_point now)
{
    return s.apply(std::span<const step<Op>>(batch.begin(), batch.size()), now);
}

namespace detail {

// Scripts made of shared parts, joined at compile time.
template <const std::string_view&... Parts>
struct joined {
    static constexpr auto chars = [] {
        std::array<char, (Parts.size() + ... + 0)> out{};
        std::size_t at = 0;
        ((std::copy(Parts.begin(), Parts.end(), out.begin() + static_cast<std::ptrdiff_t>(at)), at += Parts.size()),
         ...);
        return out;
    }();
    static constexpr std::string_view value{chars.data(), chars.size()};
};

template <class T>
asio::awaitable<T> ready_later(T value)
{
    co_return value;
}

inline asio::awaitable<void> ready_later()
{
    co_return;
}

template <class Store, class Op, class F>
auto apply_then_async(Store& s, steps<Op> batch, time_point now, F f) -> asio::awaitable<
    typename llm::detail::awaited<std::invoke_result_t<F&, result<outcomes<typename Op::outcome>>>>::type>
{
    auto done = co_await apply_batch(s, batch, now);
    if constexpr (llm::detail::is_awaitable<std::invoke_result_t<F&, decltype(done)>>::value)
        co_return co_await f(std::move(done));
    else
        co_return f(std::move(done));
}

} // namespace detail

// Applies a batch and hands its outcomes to f: at once on a store that answers at once, as an
// awaitable on one behind a network. f may itself return an awaitable (a second batch), which
// is awaited in turn. Policies are written once this way and run on every store; an absent
// network costs no coroutine frame.
template <class Store, class Op, class F>
auto apply_then(Store& s, steps<Op>&& batch, time_point now, F&& f)
{
    if constexpr (answers_later<Store>)
        return detail::apply_then_async(s, std::move(batch), now, std::forward<F>(f));
    else
        return f(apply_batch(s, batch, now));
}

} // namespace llm::store

namespace llm::store {

// A value shaped like Store's answers: as it is, or as an awaitable for a store behind a
// network. A policy returns it where it decided without asking the store (again).
template <class Store, class T>
auto ready(T&& value)
{
    if constexpr (answers_later<Store>)
        return detail::ready_later(std::decay_t<T>(std::forward<T>(value)));
    else
        return std::decay_t<T>(std::forward<T>(value));
}

// Nothing, shaped like Store's answers.
template <class Store>
auto ready()
{
    if constexpr (answers_later<Store>)
        return detail::ready_later();
}

} // namespace llm::store
