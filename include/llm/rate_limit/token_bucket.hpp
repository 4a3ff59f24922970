// rate_limit::token_bucket<Store>: each limit is a bucket of `count` tokens that refills evenly
// over its window. A call takes its cost from every bucket of its key, or from none; a full
// bucket allows a burst of the whole limit.
#pragma once

#include <llm/rate_limit/limiter.hpp>

#include <algorithm> // std::min, std::max
#include <cmath>     // std::ceil
#include <limits>    // infinity

namespace llm::rate_limit {

// The store operation. The cell is {last refill in ms, level of each bucket}.
struct bucket_take {
    bool give_back = false; // return a cost taken earlier (a call refused by a later rule)
    charges limits;

    using outcome = verdict;

    // As the Lua below, step for step: the levels are computed in place in the cell.
    verdict apply(store::cell& c, time_point now) const
    {
        const double t = store::milliseconds_of(now);
        const std::size_t n = limits.size();
        // Milliseconds for one unit to refill, divided before the cell is read: what waits on
        // the cell is then a multiplication, where a division would lengthen the path from the
        // cell to the verdict, which every call waits for.
        double ms_per[charges::capacity()];
        for (std::size_t i = 0; i < n; ++i)
            ms_per[i] = limits[i].per_ms / limits[i].count;
        const bool fresh = c.size() != n + 1;
        const double elapsed = fresh ? 0.0 : std::max(0.0, t - c[0]);
        if (fresh)
            c.resize(n + 1);
        c[0] = t;
        double* const level = c.data() + 1;
        bool admitted = true;
        for (std::size_t i = 0; i < n; ++i) {
            const auto& l = limits[i];
            level[i] = fresh ? l.count : std::min(l.count, level[i] + elapsed * l.count / l.per_ms);
            if (!give_back && level[i] < l.cost)
                admitted = false;
        }
        verdict v{.admitted = admitted};
        double wait = 0;
        double scarcest = std::numeric_limits<double>::infinity();
        std::int64_t reset = 0;
        for (std::size_t i = 0; i < n; ++i) {
            const auto& l = limits[i];
            if (admitted) {
                level[i] = give_back ? std::min(l.count, level[i] + l.cost) : level[i] - l.cost;
                // With one limit, it is the one reported whatever the ratio: no division.
                if (n > 1 && level[i] / l.count < scarcest) {
                    scarcest = level[i] / l.count;
                    v.binding = i;
                }
            } else if (level[i] < l.cost) {
                const double w = l.cost > l.count ? std::numeric_limits<double>::infinity()
                                                  : std::max(1.0, std::ceil((l.cost - level[i]) * ms_per[i]));
                if (w > wait) {
                    wait = w;
                    v.binding = i;
                }
            }
            reset = std::max(reset, milliseconds_up((l.count - level[i]) * ms_per[i]));
        }
        // max(0, floor(level)) as the Lua has it: for a level of at least 1, that is its whole part.
        const double left = level[v.binding];
        v.remaining = left >= 1 ? static_cast<std::int64_t>(std::min(left, 0x1p62)) : 0;
        v.retry_after = std::chrono::milliseconds{
            wait == std::numeric_limits<double>::infinity() ? -1 : static_cast<std::int64_t>(wait)};
        v.reset = std::chrono::milliseconds{reset};
        v.keep = v.reset;
        return v;
    }

    // The same in Lua. The levels are computed in place in the cell, which becomes
    // {now, level 1, ..., level n}: a step makes no table but the cell.
    static constexpr std::string_view script = R"lua(
local give_back = ARGV[2] == 1
local n = ARGV[3]
local c = load_cell(key)
local fresh = #c ~= n + 1
local elapsed = 0
if not fresh then elapsed = max(0, now - c[1]) end
local admitted = true
for i = 1, n do
  local count, per, cost = ARGV[1 + 3 * i], ARGV[2 + 3 * i], ARGV[3 + 3 * i]
  local level = count
  if not fresh then level = min(count, c[i + 1] + elapsed * count / per) end
  c[i + 1] = level
  if not give_back and level < cost then admitted = false end
end
c[1] = now
for i = #c, n + 2, -1 do c[i] = nil end
local wait, never, binding, scarcest, reset = 0, false, 0, math.huge, 0
for i = 1, n do
  local count, per, cost = ARGV[1 + 3 * i], ARGV[2 + 3 * i], ARGV[3 + 3 * i]
  local level = c[i + 1]
  if admitted then
    if give_back then level = min(count, level + cost) else level = level - cost end
    c[i + 1] = level
    if level / count < scarcest then
      scarcest = level / count
      binding = i - 1
    end
  elseif level < cost then
    if cost > count then
      if not never then never = true; binding = i - 1 end
    elseif not never then
      local w = max(1, ceil((cost - level) * (per / count)))
      if w > wait then wait = w; binding = i - 1 end
    end
  end
  reset = max(reset, ceil((count - level) * (per / count)))
end
if never then wait = -1 end
save_cell(key, c, reset)
return {admitted and 1 or 0, binding, max(0, floor(c[binding + 2])), wait, reset, reset}
)lua";

    template <class Push>
    void arguments(Push&& push) const
    {
        detail::push_charges(push, give_back, limits);
    }

    static result<verdict> decode(std::span<const std::int64_t> reply)
    {
        return detail::decode_verdict(reply, "rate_limit::bucket_take");
    }

private:
    // ceil(ms) as an integer, as Redis turns the Lua's number into one: for the few milliseconds
    // of a window, a conversion each way, shorter than the library's ceil without SSE4.1. A cell
    // that is not ours may give anything: NaN counts as 0, and the result is bounded.
    static std::int64_t milliseconds_up(double ms) noexcept
    {
        if (!(ms > 0))
            return 0;
        if (ms >= 0x1p62)
            return std::int64_t{1} << 62;
        const auto whole = static_cast<std::int64_t>(ms);
        return whole + (static_cast<double>(whole) < ms ? 1 : 0);
    }
};

static_assert(store_operation<bucket_take>);

template <store_backend Store, token_counter Counter = token::estimator>
using token_bucket = limiter<Store, bucket_take, Counter>;

} // namespace llm::rate_limit
