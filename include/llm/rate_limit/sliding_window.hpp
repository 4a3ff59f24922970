// rate_limit::sliding_window<Store>: each limit counts the calls of the current fixed window and
// of the one before, and weighs the previous count by how much of it the sliding window still
// covers. Unlike a fixed window it allows no double burst at a window's edge; unlike a log of
// every call it keeps three numbers per limit.
#pragma once

#include <llm/rate_limit/limiter.hpp>

#include <algorithm> // std::max
#include <cmath>     // std::ceil, std::floor
#include <limits>    // infinity

namespace llm::rate_limit {

// The store operation. The cell is {window index, current count, previous count} per limit.
struct window_take {
    bool give_back = false; // return a cost taken earlier (a call refused by a later rule)
    charges limits;

    using outcome = verdict;

    verdict apply(store::cell& c, time_point now) const
    {
        const double t = store::milliseconds_of(now);
        const std::size_t n = limits.size();
        const bool fresh = c.size() != 3 * n;
        struct state {
            double index, current, previous, elapsed;
        };
        std::array<state, 2> s{};
        bool admitted = true;
        for (std::size_t i = 0; i < n; ++i) {
            const auto& l = limits[i];
            const double index = std::floor(t / l.per_ms);
            s[i] = {index, 0, 0, (t - index * l.per_ms) / l.per_ms};
            if (!fresh && c[3 * i] == index) {
                s[i].current = c[3 * i + 1];
                s[i].previous = c[3 * i + 2];
            } else if (!fresh && c[3 * i] == index - 1) {
                s[i].previous = c[3 * i + 1];
            }
            if (!give_back && s[i].previous * (1 - s[i].elapsed) + s[i].current + l.cost > l.count)
                admitted = false;
        }
        verdict v{.admitted = admitted};
        if (admitted)
            for (std::size_t i = 0; i < n; ++i)
                s[i].current = give_back ? std::max(0.0, s[i].current - limits[i].cost) : s[i].current + limits[i].cost;
        double wait = 0;
        double scarcest = std::numeric_limits<double>::infinity();
        double reset = 0;
        for (std::size_t i = 0; i < n; ++i) {
            const auto& l = limits[i];
            const auto& w = s[i];
            const double left = l.count - (w.previous * (1 - w.elapsed) + w.current);
            if (!admitted && left < l.cost) {
                double needed = std::numeric_limits<double>::infinity();
                if (l.cost <= l.count) {
                    // Within this window the previous count fades; past it, the current one does.
                    if (w.current + l.cost <= l.count)
                        needed = ((1 - (l.count - w.current - l.cost) / w.previous) - w.elapsed) * l.per_ms;
                    else
                        needed = ((1 - w.elapsed) + (1 - (l.count - l.cost) / w.current)) * l.per_ms;
                    needed = std::max(1.0, std::ceil(needed));
                }
                if (needed > wait) {
                    wait = needed;
                    v.binding = i;
                }
            } else if (admitted && left / l.count < scarcest) {
                scarcest = left / l.count;
                v.binding = i;
            }
            const double fades = w.current > 0 ? 2 - w.elapsed : (w.previous > 0 ? 1 - w.elapsed : 0);
            reset = std::max(reset, std::ceil(fades * l.per_ms));
        }
        const auto& b = s[v.binding];
        const double left = limits[v.binding].count - (b.previous * (1 - b.elapsed) + b.current);
        v.remaining = static_cast<std::int64_t>(std::max(0.0, std::floor(left)));
        v.retry_after = std::chrono::milliseconds{
            wait == std::numeric_limits<double>::infinity() ? -1 : static_cast<std::int64_t>(wait)};
        v.reset = std::chrono::milliseconds{static_cast<std::int64_t>(reset)};
        v.keep = v.reset;
        c.resize(3 * n);
        for (std::size_t i = 0; i < n; ++i) {
            c[3 * i] = s[i].index;
            c[3 * i + 1] = s[i].current;
            c[3 * i + 2] = s[i].previous;
        }
        return v;
    }

    static constexpr std::string_view script = R"lua(
local give_back = ARGV[2] == 1
local n = ARGV[3]
local count, per, cost = {}, {}, {}
for i = 1, n do
  count[i] = ARGV[1 + 3 * i]
  per[i] = ARGV[2 + 3 * i]
  cost[i] = ARGV[3 + 3 * i]
end
local c = load_cell(key)
local fresh = #c ~= 3 * n
local index, current, previous, elapsed = {}, {}, {}, {}
local admitted = true
for i = 1, n do
  index[i] = floor(now / per[i])
  current[i], previous[i] = 0, 0
  elapsed[i] = (now - index[i] * per[i]) / per[i]
  local b = 3 * (i - 1)
  if not fresh and c[b + 1] == index[i] then
    current[i], previous[i] = c[b + 2], c[b + 3]
  elseif not fresh and c[b + 1] == index[i] - 1 then
    previous[i] = c[b + 2]
  end
  if not give_back and previous[i] * (1 - elapsed[i]) + current[i] + cost[i] > count[i] then admitted = false end
end
if admitted then
  for i = 1, n do
    if give_back then current[i] = max(0, current[i] - cost[i]) else current[i] = current[i] + cost[i] end
  end
end
local wait, binding, scarcest, reset = 0, 0, math.huge, 0
for i = 1, n do
  local left = count[i] - (previous[i] * (1 - elapsed[i]) + current[i])
  if not admitted and left < cost[i] then
    local needed = math.huge
    if cost[i] <= count[i] then
      if current[i] + cost[i] <= count[i] then
        needed = ((1 - (count[i] - current[i] - cost[i]) / previous[i]) - elapsed[i]) * per[i]
      else
        needed = ((1 - elapsed[i]) + (1 - (count[i] - cost[i]) / current[i])) * per[i]
      end
      needed = max(1, ceil(needed))
    end
    if needed > wait then wait = needed; binding = i - 1 end
  elseif admitted and left / count[i] < scarcest then
    scarcest = left / count[i]
    binding = i - 1
  end
  local fades = 0
  if current[i] > 0 then fades = 2 - elapsed[i] elseif previous[i] > 0 then fades = 1 - elapsed[i] end
  reset = max(reset, ceil(fades * per[i]))
end
local b = binding + 1
local left = count[b] - (previous[b] * (1 - elapsed[b]) + current[b])
if wait == math.huge then wait = -1 end
local cell = {}
for i = 1, n do
  cell[3 * i - 2], cell[3 * i - 1], cell[3 * i] = index[i], current[i], previous[i]
end
save_cell(key, cell, reset)
return {admitted and 1 or 0, binding, max(0, floor(left)), wait, reset, reset}
)lua";

    template <class Push>
    void arguments(Push&& push) const
    {
        detail::push_charges(push, give_back, limits);
    }

    static result<verdict> decode(std::span<const std::int64_t> reply)
    {
        return detail::decode_verdict(reply, "rate_limit::window_take");
    }
};

static_assert(store_operation<window_take>);

template <store_backend Store, token_counter Counter = token::estimator>
using sliding_window = limiter<Store, window_take, Counter>;

} // namespace llm::rate_limit
