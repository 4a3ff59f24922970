// Over what time a budget's spending counts: a calendar day in a time zone (it resets at local
// midnight), or a rolling window made of equal slots (spending leaves it slot by slot).
#pragma once

#include <llm/config.hpp>
#include <llm/core/clock.hpp>
#include <llm/core/result.hpp>
#include <llm/core/time_zone.hpp>
#include <llm/detail/small_string.hpp>

#include <atomic>  // window ids
#include <chrono>  // lengths
#include <cmath>   // std::floor
#include <cstdint> // window ids
#include <string>  // descriptions

namespace llm::budget {

class window {
public:
    // Where `now` falls in the window, as the budget's store operations need it.
    struct position {
        double slot = 0;                         // the current slot's id
        double slots = 1;                        // slots the window counts
        llm::detail::small_string<48> key;       // the part of the key that names the window
        std::chrono::milliseconds keep{};        // how long a cell must outlive now
        std::chrono::milliseconds until_reset{}; // until some spending leaves the window
    };

    // The calendar day in `zone`: spending resets at local midnight (23 or 25 hours apart on the
    // days daylight saving time begins or ends).
    static window day(time_zone zone = time_zone::utc()) { return window(std::move(zone)); }

    // The last `length`, counted in slots of `slot` (spending leaves the window one slot at a
    // time, so `slot` is its resolution). length must be a whole number of slots, at most 1000.
    static result<window> rolling(std::chrono::milliseconds length = std::chrono::hours{24},
                                  std::chrono::milliseconds slot = std::chrono::hours{1})
    {
        if (slot <= std::chrono::milliseconds::zero() || length <= std::chrono::milliseconds::zero())
            return fail(errc::invalid_configuration,
                        "budget::window::rolling: the length and the slot must be positive");
        if (length % slot != std::chrono::milliseconds::zero() || length / slot > 1000)
            return fail(errc::invalid_configuration, "budget::window::rolling: the length must be a whole number of "
                                                     "slots, at most 1000 of them");
        window w(time_zone::utc());
        w.length_ = length;
        w.slot_ = slot;
        return w;
    }

    bool is_rolling() const noexcept { return slot_.count() != 0; }

    // Inline: a call would return the position through memory, to be read back at once.
    LLM_ALWAYS_INLINE position at(time_point now) const
    {
        using std::chrono::milliseconds;
        position p;
        if (is_rolling()) {
            const auto ms = std::chrono::floor<milliseconds>(now.time_since_epoch());
            const auto index = ms / slot_;
            p.slot = static_cast<double>(index);
            p.slots = static_cast<double>(length_ / slot_);
            p.key.append('r').append_number(length_.count()).append('/').append_number(slot_.count());
            p.keep = length_ + slot_;
            p.until_reset = (index + 1) * slot_ - ms;
            return p;
        }
        // Finding the day searches the zone's transitions and formats its number; nearly every
        // call falls on the day the thread's previous call found, so that is remembered.
        thread_local remembered_day last;
        if (last.window != id_ || now < last.from || now >= last.to) {
            const auto day = zone_.local_day(now);
            last.window = id_;
            last.from = zone_.day_start(now);
            last.to = zone_.next_day_start(now);
            last.slot = static_cast<double>(day);
            last.key.clear();
            last.key.append('d').append_number(day);
        }
        const auto next = std::chrono::ceil<milliseconds>(last.to - now);
        p.slot = last.slot;
        p.key = last.key;
        p.keep = next + std::chrono::hours{25}; // a call that began before midnight still settles on its own day
        p.until_reset = next;
        return p;
    }

    // How error messages and alerts name it, e.g. "daily (Europe/Berlin)" or "rolling 24h".
    std::string describe() const
    {
        if (!is_rolling())
            return "daily (" + zone_.name() + ")";
        const auto minutes = std::chrono::duration_cast<std::chrono::minutes>(length_).count();
        return minutes % 60 == 0 ? "rolling " + std::to_string(minutes / 60) + "h"
                                 : "rolling " + std::to_string(minutes) + "min";
    }

private:
    explicit window(time_zone zone) : zone_(std::move(zone)), id_(next_id()) {}

    // A calendar day of one window, as at() found it last on a thread.
    struct remembered_day {
        std::uint64_t window = 0; // id_ of the window; 0 for none
        time_point from{};        // the day, [from, to)
        time_point to{};
        double slot = 0;
        llm::detail::small_string<48> key;
    };

    // Never reused, unlike addresses; a copy keeps its original's, as it answers alike.
    static std::uint64_t next_id() noexcept
    {
        static std::atomic<std::uint64_t> last{0};
        return last.fetch_add(1, std::memory_order_relaxed) + 1;
    }

    time_zone zone_;
    std::uint64_t id_ = 0;
    std::chrono::milliseconds length_{};
    std::chrono::milliseconds slot_{}; // zero: a calendar day
};

} // namespace llm::budget
