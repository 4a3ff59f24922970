// The two store operations a budget is made of. A scope's cell holds what is reserved by calls
// in flight, which alerts have fired, and what was spent in each slot of the window:
//   {held, alerted, slot id 1, spent 1, ..., slot id n, spent n}
// A calendar-day window has one slot per key (the key names the day); a rolling window keeps
// its n most recent slots in a ring, and spends only what they hold.
#pragma once

#include <llm/store/store.hpp>

#include <algorithm> // std::min, std::max
#include <cmath>     // std::floor, std::fmod

namespace llm::budget {

namespace detail {

inline constexpr std::string_view lua_slots = R"lua(
local slot, slots = ARGV[2], ARGV[3]
local c = load_cell(key)
if #c ~= 2 + 2 * slots then
  c = {0, 0}
  for i = 1, slots do c[1 + 2 * i], c[2 + 2 * i] = -1, 0 end
end
local function spent()
  local sum = 0
  for i = 1, slots do
    local id = c[1 + 2 * i]
    if id > slot - slots and id <= slot then sum = sum + c[2 + 2 * i] end
  end
  return sum
end
)lua";

inline constexpr std::string_view hold_lua = R"lua(
local limit, want, minimum, keep = ARGV[4], ARGV[5], ARGV[6], ARGV[7]
local used = spent()
local grant = min(want, limit - used - c[1])
local granted = 0
if grant >= minimum and grant > 0 then
  c[1] = c[1] + grant
  granted = grant
end
save_cell(key, c, keep)
return {granted, used, c[1]}
)lua";

inline constexpr std::string_view settle_lua = R"lua(
local limit, release, used, keep = ARGV[4], ARGV[5], ARGV[6], ARGV[7]
c[1] = max(0, c[1] - release)
local i = fmod(slot, slots)
if c[3 + 2 * i] ~= slot then c[3 + 2 * i], c[4 + 2 * i] = slot, 0 end
c[4 + 2 * i] = c[4 + 2 * i] + used
local total = spent()
local alerted, fired, bit = c[2], 0, 1
for k = 8, #ARGV do
  local reached = total * 1000 >= limit * ARGV[k]
  local was = fmod(floor(alerted / bit), 2) == 1
  if reached and not was then
    fired, alerted = fired + bit, alerted + bit
  elseif was and not reached then
    alerted = alerted - bit
  end
  bit = bit * 2
end
c[2] = alerted
save_cell(key, c, keep)
return {total, fired}
)lua";

// The window's slots in a cell, as the Lua above reads them.
struct slots_view {
    store::cell& c;
    double slot;
    double count;

    slots_view(store::cell& cell, double current, double n) : c(cell), slot(current), count(n)
    {
        const auto size = 2 + 2 * static_cast<std::size_t>(n);
        if (c.size() != size) {
            c.assign(size, 0.0);
            for (std::size_t i = 0; i < static_cast<std::size_t>(n); ++i)
                c[2 + 2 * i] = -1;
        }
    }

    double spent() const
    {
        double sum = 0;
        for (std::size_t i = 0; i < static_cast<std::size_t>(count); ++i) {
            const double id = c[2 + 2 * i];
            if (id > slot - count && id <= slot)
                sum += c[3 + 2 * i];
        }
        return sum;
    }

    // The current slot's spending, emptied first when it held an older slot of the ring.
    double& current()
    {
        const auto i = static_cast<std::size_t>(std::fmod(slot, count));
        if (c[2 + 2 * i] != slot) {
            c[2 + 2 * i] = slot;
            c[3 + 2 * i] = 0;
        }
        return c[3 + 2 * i];
    }
};

} // namespace detail

// Reserves up to `want` (at least `minimum`) if the scope's limit leaves room for it.
struct hold {
    double slot = 0;  // the current slot's id
    double slots = 1; // slots in the window
    double limit = 0;
    double want = 0;
    double minimum = 0;
    std::chrono::milliseconds keep_for{};

    struct outcome {
        std::int64_t granted = 0; // 0 when refused
        std::int64_t spent = 0;   // in the window, before this call
        std::int64_t held = 0;    // by calls in flight, this one included
        std::chrono::milliseconds keep{};
    };

    outcome apply(store::cell& c, time_point) const
    {
        detail::slots_view s(c, slot, slots);
        const double spent = s.spent();
        const double grant = std::min(want, limit - spent - c[0]);
        outcome o{.keep = keep_for};
        if (grant >= minimum && grant > 0) {
            c[0] += grant;
            o.granted = static_cast<std::int64_t>(grant);
        }
        o.spent = static_cast<std::int64_t>(spent);
        o.held = static_cast<std::int64_t>(c[0]);
        return o;
    }

    static constexpr std::string_view script = store::detail::joined<detail::lua_slots, detail::hold_lua>::value;

    template <class Push>
    void arguments(Push&& push) const
    {
        for (const double v : {slot, slots, limit, want, minimum, static_cast<double>(keep_for.count())})
            push(v);
    }

    static result<outcome> decode(std::span<const std::int64_t> reply)
    {
        if (reply.size() != 3)
            return fail(errc::internal_error, "budget::hold: the script's answer has an unexpected shape");
        return outcome{reply[0], reply[1], reply[2], {}};
    }
};

// Gives back `release` of what a call held and spends `used` in the current slot; reports the
// alert thresholds (per mille of the limit, bit i for thresholds[i]) that this crossed first.
struct settle {
    double slot = 0;
    double slots = 1;
    double limit = 0;
    double release = 0;
    double used = 0;
    llm::detail::inline_vector<double, 8> thresholds; // per mille, ascending
    std::chrono::milliseconds keep_for{};

    struct outcome {
        std::int64_t spent = 0; // in the window, this call included
        std::int64_t fired = 0; // thresholds crossed by this call, as bits
        std::chrono::milliseconds keep{};
    };

    outcome apply(store::cell& c, time_point) const
    {
        detail::slots_view s(c, slot, slots);
        c[0] = std::max(0.0, c[0] - release);
        s.current() += used;
        const double spent = s.spent();
        double alerted = c[1];
        double fired = 0;
        double bit = 1;
        for (const double t : thresholds) {
            const bool reached = spent * 1000 >= limit * t;
            const bool was = std::fmod(std::floor(alerted / bit), 2) == 1;
            if (reached && !was) {
                fired += bit;
                alerted += bit;
            } else if (!reached && was) {
                alerted -= bit; // a rolling window fell back below: arm it again
            }
            bit *= 2;
        }
        c[1] = alerted;
        return {static_cast<std::int64_t>(spent), static_cast<std::int64_t>(fired), keep_for};
    }

    static constexpr std::string_view script = store::detail::joined<detail::lua_slots, detail::settle_lua>::value;

    template <class Push>
    void arguments(Push&& push) const
    {
        for (const double v : {slot, slots, limit, release, used, static_cast<double>(keep_for.count())})
            push(v);
        for (const double t : thresholds)
            push(t);
    }

    static result<outcome> decode(std::span<const std::int64_t> reply)
    {
        if (reply.size() != 2)
            return fail(errc::internal_error, "budget::settle: the script's answer has an unexpected shape");
        return outcome{reply[0], reply[1], {}};
    }
};

} // namespace llm::budget
