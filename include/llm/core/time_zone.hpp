// Calendar days in a configured time zone: budgets reset at the start of the local day, not
// at UTC midnight. libstdc++ 12 has no std::chrono tzdb, so llm::time_zone reads the system's
// compiled zoneinfo files (TZif, RFC 8536) itself, including the POSIX TZ rule in their footer
// that carries a zone's daylight-saving rules past the end of its transition table.
#pragma once

#include <llm/core/clock.hpp>
#include <llm/core/result.hpp>

#include <cerrno>       // errno, ENOENT, ENOTDIR, EFBIG, EIO: why a zone file could not be read
#include <chrono>       // seconds, minutes, floor
#include <cstdint>      // int32_t, int64_t, INT64_MIN, INT64_MAX
#include <cstdio>       // fopen, fread: the zone file
#include <cstdlib>      // getenv: TZDIR
#include <memory>       // shared_ptr: one immutable table shared by every copy
#include <string>       // names, paths, messages
#include <string_view>  // zone names, file bytes, TZ strings
#include <system_error> // generic_category: errno as text
#include <utility>      // move
#include <vector>       // transitions

namespace llm {

namespace detail::tz {

inline constexpr std::int64_t seconds_per_day = 86400;

// Instants read from a file are clamped to ±2^60 s so that adding offsets and days to them
// never overflows; that is still far beyond system_clock's range (about ±292 years).
inline constexpr std::int64_t instant_limit = std::int64_t{1} << 60;

// RFC 8536 bounds UT offsets to (-25 h, +26 h); anything wider is a corrupt file.
inline constexpr std::int32_t min_offset = -89999;
inline constexpr std::int32_t max_offset = 93599;

// No zoneinfo file comes near this (the largest are a few KiB); the cap keeps a name that
// resolves to something endless, such as a symlink to /dev/zero, from exhausting memory.
inline constexpr std::size_t max_file_size = std::size_t{1} << 20;

inline constexpr std::int64_t floor_div(std::int64_t a, std::int64_t b) noexcept
{
    std::int64_t q = a / b;
    if ((a % b != 0) && ((a < 0) != (b < 0)))
        --q;
    return q;
}

// One day of a POSIX TZ rule: "Jn" (1..365, February 29 never counted), "n" (0..365,
// February 29 counted) or "Mm.w.d" (weekday d of week w of month m, w = 5 meaning the last).
struct rule_date {
    char kind = 'M';     // 'J', 'n' or 'M'
    int day = 0;         // 'J' and 'n'
    int month = 1;       // 'M': 1..12
    int week = 1;        // 'M': 1..5
    int weekday = 0;     // 'M': 0 = Sunday
    std::int32_t at = 0; // local seconds after midnight; RFC 8536 allows -167 h .. +167 h
};

struct posix_rule {
    std::int32_t std_offset = 0; // east of UTC, the opposite sign of the TZ string's
    bool has_dst = false;
    std::int32_t dst_offset = 0;
    rule_date start; // in standard time
    rule_date end;   // in daylight time
};

struct transition {
    std::int64_t at;     // UTC seconds since the epoch
    std::int32_t offset; // in effect from `at` on
};

struct zone_data {
    std::string name;
    std::vector<transition> transitions; // strictly ascending (before clamping)
    std::int32_t initial_offset = 0;     // before the first transition
    bool has_rule = false;               // the footer's rule governs after the last transition
    posix_rule rule;
};

// A stretch of time with one offset: begin <= s < end. INT64_MIN and INT64_MAX stand for
// "no change known" and are never used in arithmetic.
struct span {
    std::int64_t begin;
    std::int64_t end;
    std::int32_t offset;
};

inline constexpr bool is_leap(std::int64_t y) noexcept
{
    return y % 4 == 0 && (y % 100 != 0 || y % 400 == 0);
}

// Days since 1970-01-01 of a proleptic Gregorian date. Written out rather than through
// std::chrono's calendar types, which cost microseconds per call in unoptimised builds, and
// in 64 bits, so that any clamped instant's year is in range. Years are counted from March
// so that the leap day falls at the end of one.
inline constexpr std::int64_t days_from_civil(std::int64_t y, int m, int d) noexcept
{
    if (m <= 2)
        --y;
    const std::int64_t era = floor_div(y, 400);     // 400 years repeat the calendar exactly
    const std::int64_t year_of_era = y - era * 400; // 0..399
    const std::int64_t month_from_march = (m + 9) % 12;
    const std::int64_t day_of_year = (153 * month_from_march + 2) / 5 + d - 1; // 0..365
    const std::int64_t day_of_era = year_of_era * 365 + year_of_era / 4 - year_of_era / 100 + day_of_year;
    return era * 146097 + day_of_era - 719468; // 719468: days from 0000-03-01 to 1970-01-01
}

inline constexpr std::int64_t year_of_day(std::int64_t day) noexcept
{
    std::int64_t y = 1970 + floor_div(day * 400, 146097); // within a year of the answer
    while (days_from_civil(y, 1, 1) > day)
        --y;
    while (days_from_civil(y + 1, 1, 1) <= day)
        ++y;
    return y;
}

// 0 = Sunday; 1970-01-01 was a Thursday.
inline constexpr int weekday_of_day(std::int64_t day) noexcept
{
    return static_cast<int>(day - floor_div(day + 4, 7) * 7 + 4);
}

// The day (since the epoch) a rule date falls on, in the year that starts on day jan1.
inline constexpr std::int64_t rule_day(const rule_date& r, std::int64_t jan1, bool leap) noexcept
{
    switch (r.kind) {
    case 'J':
        return jan1 + r.day - 1 + ((r.day >= 60 && leap) ? 1 : 0);
    case 'n':
        return jan1 + r.day;
    default: {
        constexpr int before_month[13] = {0, 0, 31, 59, 90, 120, 151, 181, 212, 243, 273, 304, 334};
        constexpr int month_length[13] = {0, 31, 28, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31};
        const std::int64_t first = jan1 + before_month[r.month] + ((r.month > 2 && leap) ? 1 : 0);
        const int length = month_length[r.month] + ((r.month == 2 && leap) ? 1 : 0);
        int day_of_month = (r.weekday - weekday_of_day(first) + 7) % 7 + 7 * (r.week - 1);
        if (day_of_month >= length) // week 5 means the last, which may be the 4th
            day_of_month -= 7;
        return first + day_of_month;
    }
    }
}

// The rule's offset at s, and the changes around it. `floor` is where the rule takes over
// (the file's last transition). Changes are computed for five years around s because rule
// times may reach 167 hours either side of a date, pushing a year's change into the next.
inline span rule_span(const posix_rule& r, std::int64_t s, std::int64_t floor) noexcept
{
    if (!r.has_dst)
        return {floor, INT64_MAX, r.std_offset};

    struct change {
        std::int64_t at;
        bool dst;
    };
    change changes[10];
    int n = 0;
    const std::int64_t y = year_of_day(floor_div(s + r.std_offset, seconds_per_day));
    std::int64_t jan1 = days_from_civil(y - 2, 1, 1);
    for (std::int64_t yy = y - 2; yy <= y + 2; ++yy) {
        const bool leap = is_leap(yy);
        changes[n++] = {rule_day(r.start, jan1, leap) * seconds_per_day + r.start.at - r.std_offset, true};
        changes[n++] = {rule_day(r.end, jan1, leap) * seconds_per_day + r.end.at - r.dst_offset, false};
        jan1 += leap ? 366 : 365;
    }
    // A stable sort: each year's end was listed before the next year's start, so when they
    // coincide (tzcode's way of saying "daylight time all year") the start wins.
    for (int i = 1; i < n; ++i) {
        const change c = changes[i];
        int j = i;
        for (; j > 0 && changes[j - 1].at > c.at; --j)
            changes[j] = changes[j - 1];
        changes[j] = c;
    }
    span out{floor, INT64_MAX, r.std_offset};
    for (int i = 0; i < n; ++i) {
        if (changes[i].at <= s) {
            out.begin = changes[i].at;
            out.offset = changes[i].dst ? r.dst_offset : r.std_offset;
        } else {
            out.end = changes[i].at;
            break;
        }
    }
    if (out.begin < floor)
        out.begin = floor;
    return out;
}

inline span find_span(const zone_data& z, std::int64_t s) noexcept
{
    const auto& t = z.transitions;
    if (t.empty())
        return z.has_rule ? rule_span(z.rule, s, INT64_MIN) : span{INT64_MIN, INT64_MAX, z.initial_offset};
    if (s < t.front().at)
        return {INT64_MIN, t.front().at, z.initial_offset};
    std::size_t lo = 0;        // t[lo].at <= s
    std::size_t hi = t.size(); // t[hi].at > s, or past the end
    while (hi - lo > 1) {
        const std::size_t mid = lo + (hi - lo) / 2;
        if (t[mid].at <= s)
            lo = mid;
        else
            hi = mid;
    }
    if (hi == t.size())
        return z.has_rule ? rule_span(z.rule, s, t[lo].at) : span{t[lo].at, INT64_MAX, t[lo].offset};
    return {t[lo].at, t[hi].at, t[lo].offset};
}

inline std::int64_t to_seconds(time_point t) noexcept
{
    return static_cast<std::int64_t>(std::chrono::floor<std::chrono::seconds>(t.time_since_epoch()).count());
}

// Saturates instead of overflowing at the ends of time_point's range.
inline time_point from_seconds(std::int64_t s) noexcept
{
    using std::chrono::seconds;
    constexpr auto max_s = std::chrono::duration_cast<seconds>(time_point::max().time_since_epoch()).count();
    constexpr auto min_s = std::chrono::duration_cast<seconds>(time_point::min().time_since_epoch()).count();
    if (s > max_s)
        return time_point::max();
    if (s < min_s)
        return time_point::min();
    return time_point{std::chrono::duration_cast<time_point::duration>(seconds{s})};
}

// The first instant of the unbroken run of s's local date that contains s: a date can recur
// when clocks go back across midnight, and a budget's day must not reach back past that.
inline std::int64_t day_start(const zone_data& z, std::int64_t s) noexcept
{
    span sp = find_span(z, s);
    const std::int64_t day = floor_div(s + sp.offset, seconds_per_day);
    for (;;) {
        const std::int64_t midnight = day * seconds_per_day - sp.offset;
        if (midnight > sp.begin)
            return midnight;
        // The span began at or after midnight: either the day began at that change (midnight
        // was skipped) or the day reaches back into the span before (clocks went back to it).
        const span prev = find_span(z, sp.begin - 1);
        if (floor_div(sp.begin - 1 + prev.offset, seconds_per_day) != day)
            return sp.begin;
        sp = prev;
    }
}

// The first instant after s whose local date is not the one at s.
inline std::int64_t next_day_start(const zone_data& z, std::int64_t s) noexcept
{
    span sp = find_span(z, s);
    const std::int64_t day = floor_div(s + sp.offset, seconds_per_day);
    for (;;) {
        const std::int64_t midnight = (day + 1) * seconds_per_day - sp.offset;
        if (midnight < sp.end)
            return midnight;
        const span next = find_span(z, sp.end);
        if (floor_div(sp.end + next.offset, seconds_per_day) != day)
            return sp.end;
        sp = next;
    }
}

// A POSIX TZ string as RFC 8536 extends it: std offset [dst [offset] [,start[/time],end[/time]]],
// names plain letters or <quoted>, rule times signed and up to 167 hours.
class tz_string_parser {
public:
    explicit tz_string_parser(std::string_view s) noexcept : s_(s) {}

    bool parse(posix_rule& out) noexcept
    {
        std::int32_t west = 0;
        if (!name() || !hms(west, 24))
            return false;
        out.std_offset = -west;
        if (done())
            return true;
        if (!name())
            return false;
        out.has_dst = true;
        out.dst_offset = out.std_offset + 3600;
        if (!done() && peek() != ',') {
            if (!hms(west, 24))
                return false;
            out.dst_offset = -west;
        }
        if (done()) {
            // POSIX leaves a missing rule to the implementation; tzcode and glibc use the US one.
            out.start = rule_date{'M', 0, 3, 2, 0, 7200};
            out.end = rule_date{'M', 0, 11, 1, 0, 7200};
            return true;
        }
        return eat(',') && date(out.start) && eat(',') && date(out.end) && done();
    }

private:
    bool done() const noexcept { return pos_ == s_.size(); }
    char peek() const noexcept { return done() ? '\0' : s_[pos_]; }
    static bool is_digit(char c) noexcept { return c >= '0' && c <= '9'; }
    static bool is_alpha(char c) noexcept { return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z'); }

    bool eat(char c) noexcept
    {
        if (peek() != c)
            return false;
        ++pos_;
        return true;
    }

    bool name() noexcept
    {
        const std::size_t first = pos_;
        if (eat('<')) {
            while (is_alpha(peek()) || is_digit(peek()) || peek() == '+' || peek() == '-')
                ++pos_;
            return pos_ > first + 1 && eat('>');
        }
        while (is_alpha(peek()))
            ++pos_;
        return pos_ > first;
    }

    bool number(int& out, int max) noexcept
    {
        if (!is_digit(peek()))
            return false;
        int value = 0;
        while (is_digit(peek())) {
            value = value * 10 + (peek() - '0');
            if (value > max)
                return false;
            ++pos_;
        }
        out = value;
        return true;
    }

    // [+-]hh[:mm[:ss]]
    bool hms(std::int32_t& out, int max_hours) noexcept
    {
        const bool negative = peek() == '-';
        if (peek() == '-' || peek() == '+')
            ++pos_;
        int h = 0, m = 0, sec = 0;
        if (!number(h, max_hours))
            return false;
        if (eat(':') && (!number(m, 59) || (eat(':') && !number(sec, 59))))
            return false;
        const std::int32_t value = h * 3600 + m * 60 + sec;
        out = negative ? -value : value;
        return true;
    }

    bool date(rule_date& out) noexcept
    {
        out = rule_date{};
        if (eat('J')) {
            out.kind = 'J';
            if (!number(out.day, 365) || out.day < 1)
                return false;
        } else if (eat('M')) {
            out.kind = 'M';
            if (!number(out.month, 12) || out.month < 1 || !eat('.') || !number(out.week, 5) || out.week < 1 ||
                !eat('.') || !number(out.weekday, 6))
                return false;
        } else {
            out.kind = 'n';
            if (!number(out.day, 365))
                return false;
        }
        out.at = 7200;
        return !eat('/') || hms(out.at, 167);
    }

    std::string_view s_;
    std::size_t pos_ = 0;
};

// Big-endian reads that never pass the end: every caller checks `has` first.
class byte_reader {
public:
    explicit byte_reader(std::string_view bytes) noexcept : b_(bytes) {}

    bool has(std::uint64_t n) const noexcept { return n <= b_.size() - pos_; }
    void skip(std::size_t n) noexcept { pos_ += n; }
    std::string_view rest() const noexcept { return b_.substr(pos_); }

    std::uint8_t u8() noexcept { return static_cast<std::uint8_t>(b_[pos_++]); }

    std::uint32_t u32() noexcept
    {
        std::uint32_t v = 0;
        for (int i = 0; i < 4; ++i)
            v = (v << 8) | u8();
        return v;
    }

    std::uint64_t u64() noexcept
    {
        std::uint64_t v = 0;
        for (int i = 0; i < 8; ++i)
            v = (v << 8) | u8();
        return v;
    }

private:
    std::string_view b_;
    std::size_t pos_ = 0;
};

// Compared by address: the one problem that gets its own advice.
inline constexpr const char* leap_seconds_problem = "leap second records";

struct tzif_header {
    char version = 0;
    std::uint32_t isutcnt = 0, isstdcnt = 0, leapcnt = 0, timecnt = 0, typecnt = 0, charcnt = 0;

    std::uint64_t block_size(std::uint64_t time_size) const noexcept
    {
        return std::uint64_t{timecnt} * (time_size + 1) + std::uint64_t{typecnt} * 6 + charcnt +
               std::uint64_t{leapcnt} * (time_size + 4) + isstdcnt + isutcnt;
    }
};

// Each parse step returns what is wrong, or nullptr.
inline const char* read_header(byte_reader& in, tzif_header& h) noexcept
{
    if (!in.has(44))
        return "truncated header";
    if (in.u8() != 'T' || in.u8() != 'Z' || in.u8() != 'i' || in.u8() != 'f')
        return "bad magic: does not start with \"TZif\"";
    h.version = static_cast<char>(in.u8());
    // Versions after 2 only extend version 2's layout, so any later one is read like it.
    if (h.version != 0 && h.version < '2')
        return "unknown TZif version";
    in.skip(15);
    h.isutcnt = in.u32();
    h.isstdcnt = in.u32();
    h.leapcnt = in.u32();
    h.timecnt = in.u32();
    h.typecnt = in.u32();
    h.charcnt = in.u32();
    if (h.typecnt == 0 || h.charcnt == 0)
        return "no local time types";
    if ((h.isutcnt != 0 && h.isutcnt != h.typecnt) || (h.isstdcnt != 0 && h.isstdcnt != h.typecnt))
        return "inconsistent counts in the header";
    return nullptr;
}

inline const char* read_block(byte_reader& in, const tzif_header& h, unsigned time_size, zone_data& z)
{
    if (!in.has(h.block_size(time_size)))
        return "truncated data block";
    if (h.leapcnt != 0)
        return leap_seconds_problem;

    z.transitions.assign(h.timecnt, transition{0, 0});
    for (std::uint32_t i = 0; i < h.timecnt; ++i) {
        const std::int64_t at = time_size == 8 ? static_cast<std::int64_t>(in.u64())
                                               : static_cast<std::int64_t>(static_cast<std::int32_t>(in.u32()));
        if (i > 0 && at <= z.transitions[i - 1].at)
            return "transition times not in ascending order";
        z.transitions[i].at = at;
    }
    // The type indices become offsets once the types are read; keep them meanwhile.
    std::vector<std::uint8_t> index(h.timecnt);
    for (std::uint32_t i = 0; i < h.timecnt; ++i) {
        index[i] = in.u8();
        if (index[i] >= h.typecnt)
            return "transition to a local time type that does not exist";
    }
    std::vector<std::int32_t> offsets(h.typecnt);
    std::uint32_t first_standard = h.typecnt;
    for (std::uint32_t i = 0; i < h.typecnt; ++i) {
        const auto offset = static_cast<std::int32_t>(in.u32());
        const std::uint8_t isdst = in.u8();
        const std::uint8_t desigidx = in.u8();
        if (offset < min_offset || offset > max_offset)
            return "UT offset out of range";
        if (isdst > 1 || desigidx >= h.charcnt)
            return "invalid local time type";
        offsets[i] = offset;
        if (isdst == 0 && first_standard == h.typecnt)
            first_standard = i;
    }
    // Before the first transition: the first standard-time type, as glibc and tzcode do.
    z.initial_offset = offsets[first_standard == h.typecnt ? 0 : first_standard];
    for (std::uint32_t i = 0; i < h.timecnt; ++i) {
        auto& t = z.transitions[i];
        t.offset = offsets[index[i]];
        t.at = t.at < -instant_limit ? -instant_limit : (t.at > instant_limit ? instant_limit : t.at);
    }
    in.skip(static_cast<std::size_t>(std::uint64_t{h.charcnt} + h.isstdcnt + h.isutcnt)); // abbreviations, indicators
    return nullptr;
}

inline const char* read_footer(byte_reader& in, zone_data& z) noexcept
{
    if (!in.has(1) || in.u8() != '\n')
        return "missing footer";
    const std::string_view rest = in.rest();
    const std::size_t end = rest.find('\n');
    if (end == std::string_view::npos)
        return "truncated footer";
    const std::string_view tz = rest.substr(0, end);
    if (tz.empty())
        return nullptr; // no rule: the last transition's offset holds forever
    if (!tz_string_parser{tz}.parse(z.rule))
        return "invalid TZ string in the footer";
    if (z.rule.std_offset < min_offset || z.rule.std_offset > max_offset || z.rule.dst_offset < min_offset ||
        z.rule.dst_offset > max_offset)
        return "UT offset in the footer out of range";
    z.has_rule = true;
    return nullptr;
}

inline const char* parse_tzif(std::string_view bytes, zone_data& z)
{
    byte_reader in{bytes};
    tzif_header h;
    if (const char* e = read_header(in, h))
        return e;
    if (h.version == 0)
        return read_block(in, h, 4, z);
    // Version 2 and later repeat the data with 64-bit times; the 32-bit block is only skipped.
    if (!in.has(h.block_size(4)))
        return "truncated version 1 data block";
    in.skip(static_cast<std::size_t>(h.block_size(4)));
    tzif_header h2;
    if (const char* e = read_header(in, h2))
        return e;
    if (const char* e = read_block(in, h2, 8, z))
        return e;
    return read_footer(in, z);
}

// A name or path fit for a message: printable ASCII only, and not endless.
inline std::string quoted(std::string_view s)
{
    std::string out = "'";
    for (const char c : s.substr(0, 200))
        out += (c >= 0x20 && c < 0x7f) ? c : '?';
    if (s.size() > 200)
        out += "...";
    out += '\'';
    return out;
}

// Why a name cannot be looked up under the zoneinfo directory, or nullptr.
inline const char* name_problem(std::string_view name) noexcept
{
    if (name.empty())
        return "is empty";
    if (name.front() == '/')
        return "is an absolute path";
    if (name.find('\0') != std::string_view::npos)
        return "contains a NUL byte";
    for (std::size_t begin = 0; begin <= name.size();) {
        std::size_t end = name.find('/', begin);
        if (end == std::string_view::npos)
            end = name.size();
        if (name.substr(begin, end - begin) == "..")
            return "contains a '..' component";
        begin = end + 1;
    }
    return nullptr;
}

// 0 on success, else an errno value.
inline int read_file(const std::string& path, std::string& out)
{
    errno = 0;
    std::FILE* f = std::fopen(path.c_str(), "rb");
    if (f == nullptr)
        return errno != 0 ? errno : ENOENT;
    char buffer[4096];
    int err = 0;
    for (;;) {
        const std::size_t n = std::fread(buffer, 1, sizeof buffer, f);
        out.append(buffer, n);
        if (out.size() > max_file_size)
            err = EFBIG;
        if (n < sizeof buffer || err != 0)
            break;
    }
    if (err == 0 && std::ferror(f) != 0)
        err = errno != 0 ? errno : EIO;
    std::fclose(f);
    return err;
}

inline std::string two_digits(std::uint64_t v)
{
    return (v < 10 ? "0" : "") + std::to_string(v);
}

// "UTC+05:30"; any minute count, however absurd, formats without overflow.
inline std::string fixed_name(std::int64_t minutes)
{
    const std::uint64_t magnitude =
        minutes < 0 ? std::uint64_t{0} - static_cast<std::uint64_t>(minutes) : static_cast<std::uint64_t>(minutes);
    return std::string{"UTC"} + (minutes < 0 ? '-' : '+') + two_digits(magnitude / 60) + ':' +
           two_digits(magnitude % 60);
}

} // namespace detail::tz

// A time zone: a name and the UTC offset it prescribes at each instant. Copies share one
// immutable table, so a time_zone is cheap to copy and safe to read from many threads.
class time_zone {
public:
    static time_zone utc()
    {
        static const auto data = [] {
            auto z = std::make_shared<detail::tz::zone_data>();
            z->name = "UTC";
            return std::shared_ptr<const detail::tz::zone_data>(std::move(z));
        }();
        return time_zone{data};
    }

    // A zone that never changes its offset, e.g. fixed(5h + 30min) for "UTC+05:30".
    static result<time_zone> fixed(std::chrono::minutes offset)
    {
        constexpr std::int64_t limit = std::int64_t{24} * 60;
        const auto m = static_cast<std::int64_t>(offset.count());
        if (m < -limit || m > limit)
            return error{errc::invalid_configuration, "fixed time zone " +
                                                          detail::tz::quoted(detail::tz::fixed_name(m)) +
                                                          " is out of range: use an offset within 24 hours of UTC"};
        auto z = std::make_shared<detail::tz::zone_data>();
        z->name = detail::tz::fixed_name(m);
        z->initial_offset = static_cast<std::int32_t>(m * 60);
        return time_zone{std::move(z)};
    }

    // An IANA zone such as "Europe/Berlin", read from $TZDIR or else /usr/share/zoneinfo.
    static result<time_zone> locate(std::string_view name) { return locate(name, std::string{}); }

    // The same from the zoneinfo directory `dir` (empty: the default above).
    static result<time_zone> locate(std::string_view name, const std::string& dir)
    {
        using detail::tz::quoted;
        if (const char* problem = detail::tz::name_problem(name))
            return error{errc::invalid_configuration,
                         "time zone name " + quoted(name) + ' ' + problem +
                             ": use an IANA zone name relative to the zoneinfo directory, such as 'Europe/Berlin'"};
        std::string directory = dir;
        if (directory.empty()) {
            const char* env = std::getenv("TZDIR");
            directory = (env != nullptr && *env != '\0') ? env : "/usr/share/zoneinfo";
        }
        std::string path = directory;
        if (path.back() != '/')
            path += '/';
        path.append(name);

        std::string bytes;
        if (const int err = detail::tz::read_file(path, bytes); err != 0) {
            if (err == ENOENT || err == ENOTDIR)
                return error{errc::invalid_configuration,
                             "time zone " + quoted(name) + " not found in " + quoted(directory) +
                                 ": check the name (such as 'Europe/Berlin'), install tzdata, or set TZDIR"};
            return error{errc::invalid_configuration, "time zone " + quoted(name) + ": cannot read " + quoted(path) +
                                                          " (" + std::generic_category().message(err) +
                                                          "): give the name of a zone file, such as 'Europe/Berlin'"};
        }
        auto z = std::make_shared<detail::tz::zone_data>();
        if (const char* problem = detail::tz::parse_tzif(bytes, *z)) {
            if (problem == detail::tz::leap_seconds_problem)
                return error{errc::invalid_configuration,
                             "time zone " + quoted(name) + ": " + quoted(path) +
                                 " counts leap seconds, which system_clock does not: use the zone without them "
                                 "(not under right/)"};
            return error{errc::invalid_configuration, "time zone " + quoted(name) + ": " + quoted(path) +
                                                          " is not a valid TZif file (" + problem +
                                                          "): reinstall tzdata or choose another zone"};
        }
        z->name = std::string{name};
        return time_zone{std::move(z)};
    }

    const std::string& name() const noexcept { return data_->name; }

    // Local time = utc + offset(utc).
    std::chrono::seconds offset(time_point utc) const noexcept
    {
        return std::chrono::seconds{detail::tz::find_span(*data_, detail::tz::to_seconds(utc)).offset};
    }

    // The local date at utc, as days since 1970-01-01.
    std::int64_t local_day(time_point utc) const noexcept
    {
        const std::int64_t s = detail::tz::to_seconds(utc);
        return detail::tz::floor_div(s + detail::tz::find_span(*data_, s).offset, detail::tz::seconds_per_day);
    }

    // When the local day containing utc began: usually local midnight, later when a
    // daylight-saving change skipped midnight (the local date held without a break since).
    time_point day_start(time_point utc) const noexcept
    {
        return detail::tz::from_seconds(detail::tz::day_start(*data_, detail::tz::to_seconds(utc)));
    }

    // When the local day containing utc ends: the first instant after it with another date.
    time_point next_day_start(time_point utc) const noexcept
    {
        return detail::tz::from_seconds(detail::tz::next_day_start(*data_, detail::tz::to_seconds(utc)));
    }

private:
    explicit time_zone(std::shared_ptr<const detail::tz::zone_data> data) noexcept : data_(std::move(data)) {}

    std::shared_ptr<const detail::tz::zone_data> data_;
};

} // namespace llm
