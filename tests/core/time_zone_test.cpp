// llm::time_zone, checked against the C library's own reading of the same zoneinfo files
// (TZ=":Europe/Berlin", tzset, localtime_r) and of the same POSIX TZ strings.
#include <llm/core/time_zone.hpp>

#include <catch2/catch.hpp>

#include <chrono>     // sys_days, year_month_day
#include <cstdint>    // int64_t
#include <cstdlib>    // setenv, unsetenv, getenv
#include <ctime>      // tzset, localtime_r, tm_gmtoff
#include <filesystem> // temporary zoneinfo directories
#include <fstream>    // writing zone files
#include <iterator>   // istreambuf_iterator
#include <optional>   // saved environment values
#include <random>     // garbage and mutated files
#include <set>        // days whose start is unusual
#include <string>
#include <vector>

using namespace llm;
using namespace std::chrono_literals;

namespace {

constexpr std::int64_t hour = 3600;
constexpr std::int64_t day_seconds = 86400;

std::int64_t utc(int y, unsigned m, unsigned d, std::int64_t h = 0, std::int64_t min = 0, std::int64_t s = 0)
{
    using namespace std::chrono;
    const sys_days days{year{y} / month{m} / day{d}};
    return static_cast<std::int64_t>(days.time_since_epoch().count()) * day_seconds + h * hour + min * 60 + s;
}

std::int64_t day_number(int y, unsigned m, unsigned d)
{
    return utc(y, m, d) / day_seconds;
}

time_point at(std::int64_t s)
{
    return time_point{std::chrono::seconds{s}};
}

std::int64_t seconds_of(time_point t)
{
    return static_cast<std::int64_t>(std::chrono::floor<std::chrono::seconds>(t.time_since_epoch()).count());
}

// Sets an environment variable for the length of a test and puts the old value back, so the
// C library's time zone does not leak into other tests.
class env_override {
public:
    env_override(std::string name, const std::string& value) : name_(std::move(name))
    {
        if (const char* old = std::getenv(name_.c_str()))
            old_ = old;
        ::setenv(name_.c_str(), value.c_str(), 1);
        ::tzset();
    }
    env_override(const env_override&) = delete;
    env_override& operator=(const env_override&) = delete;
    ~env_override()
    {
        if (old_)
            ::setenv(name_.c_str(), old_->c_str(), 1);
        else
            ::unsetenv(name_.c_str());
        ::tzset();
    }

private:
    std::string name_;
    std::optional<std::string> old_;
};

// The C library's answer for TZ=tz: a zone file (":Europe/Berlin", ":/abs/path") or a POSIX string.
class reference {
public:
    explicit reference(const std::string& tz) : tz_("TZ", tz) {}

    std::tm local(std::int64_t s) const
    {
        const auto t = static_cast<std::time_t>(s);
        std::tm out{};
        ::localtime_r(&t, &out);
        return out;
    }
    std::int64_t offset(std::int64_t s) const { return static_cast<std::int64_t>(local(s).tm_gmtoff); }
    std::int64_t day(std::int64_t s) const
    {
        const std::tm tm = local(s);
        return day_number(tm.tm_year + 1900, static_cast<unsigned>(tm.tm_mon + 1), static_cast<unsigned>(tm.tm_mday));
    }
    std::int64_t seconds_into_day(std::int64_t s) const
    {
        const std::tm tm = local(s);
        return tm.tm_hour * hour + std::int64_t{tm.tm_min} * 60 + tm.tm_sec;
    }

private:
    env_override tz_;
};

// offset() and local_day() against the C library every `step` over [from, to), and one second
// either side of every change of offset found between samples. Returns the first mismatches.
std::string compare_with(const time_zone& tz, const reference& ref, std::int64_t from, std::int64_t to,
                         std::int64_t step = 6 * hour)
{
    std::string report;
    int mismatches = 0;
    auto check = [&](std::int64_t s) {
        const std::int64_t ours = tz.offset(at(s)).count();
        const std::int64_t theirs = ref.offset(s);
        const std::int64_t our_day = tz.local_day(at(s));
        const std::int64_t their_day = ref.day(s);
        if ((ours != theirs || our_day != their_day) && ++mismatches <= 10)
            report += "at " + std::to_string(s) + ": offset " + std::to_string(ours) + " vs " + std::to_string(theirs) +
                      ", day " + std::to_string(our_day) + " vs " + std::to_string(their_day) + "\n";
    };
    int changes = 0;
    for (std::int64_t s = from; s < to; s += step) {
        check(s);
        check(s + 1234); // not on the hour
        if (s == from || ref.offset(s) == ref.offset(s - step))
            continue;
        // Bisect to the first second of the new offset.
        std::int64_t lo = s - step, hi = s;
        const std::int64_t before = ref.offset(lo);
        while (hi - lo > 1) {
            const std::int64_t mid = lo + (hi - lo) / 2;
            (ref.offset(mid) == before ? lo : hi) = mid;
        }
        ++changes;
        check(hi - 1);
        check(hi);
        check(hi + 1);
    }
    if (mismatches > 10)
        report += "... " + std::to_string(mismatches) + " mismatches in all\n";
    report += std::to_string(changes) + " changes of offset checked";
    return mismatches == 0 ? std::string{} : report;
}

const std::vector<std::string> real_zones = {
    "Europe/Berlin",    "America/New_York", "Australia/Lord_Howe", "Asia/Kolkata",
    "America/Santiago", "Pacific/Apia",     "Africa/Casablanca",   "UTC",
};

const std::string default_zoneinfo = "/usr/share/zoneinfo";

// A scratch zoneinfo directory, removed afterwards.
class temp_dir {
public:
    temp_dir()
    {
        std::random_device rd;
        path_ = std::filesystem::temp_directory_path() / ("llm_time_zone_test_" + std::to_string(rd()));
        std::filesystem::create_directories(path_);
    }
    temp_dir(const temp_dir&) = delete;
    temp_dir& operator=(const temp_dir&) = delete;
    ~temp_dir()
    {
        std::error_code ec;
        std::filesystem::remove_all(path_, ec);
    }

    std::string str() const { return path_.string(); }

    std::string write(const std::string& name, const std::string& bytes) const
    {
        const auto file = path_ / name;
        std::filesystem::create_directories(file.parent_path());
        std::ofstream out(file, std::ios::binary | std::ios::trunc);
        out.write(bytes.data(), static_cast<std::streamsize>(bytes.size()));
        return file.string();
    }

private:
    std::filesystem::path path_;
};

std::string read_bytes(const std::string& path)
{
    std::ifstream in(path, std::ios::binary);
    return {std::istreambuf_iterator<char>(in), std::istreambuf_iterator<char>()};
}

// A TZif file built by hand: version 0 (v1 only) or '2'/'3' (both blocks and a footer).
struct local_type {
    std::int32_t offset;
    bool dst;
};

std::string tzif(char version, const std::vector<std::pair<std::int64_t, std::uint8_t>>& transitions,
                 const std::vector<local_type>& types, const std::string& footer, std::uint32_t leapcnt = 0)
{
    auto put = [](std::string& out, std::uint64_t v, int bytes) {
        for (int i = bytes - 1; i >= 0; --i)
            out += static_cast<char>((v >> (8 * i)) & 0xff);
    };
    const std::string chars = "AAA";
    auto header = [&](std::string& out) {
        out += "TZif";
        out += version;
        out.append(15, '\0');
        put(out, 0, 4);                  // isutcnt
        put(out, 0, 4);                  // isstdcnt
        put(out, leapcnt, 4);            // leapcnt
        put(out, transitions.size(), 4); // timecnt
        put(out, types.size(), 4);       // typecnt
        put(out, chars.size() + 1, 4);   // charcnt
    };
    auto block = [&](std::string& out, int time_size) {
        for (const auto& t : transitions)
            put(out, static_cast<std::uint64_t>(t.first), time_size);
        for (const auto& t : transitions)
            put(out, t.second, 1);
        for (const auto& t : types) {
            put(out, static_cast<std::uint32_t>(t.offset), 4);
            put(out, t.dst ? 1 : 0, 1);
            put(out, 0, 1);
        }
        out += chars;
        out += '\0';
        for (std::uint32_t i = 0; i < leapcnt; ++i) {
            put(out, 78796800 + std::uint64_t{i} * 1000, time_size);
            put(out, i + 1, 4);
        }
    };
    std::string out;
    header(out);
    block(out, 4);
    if (version == 0)
        return out;
    header(out);
    block(out, 8);
    out += '\n' + footer + '\n';
    return out;
}

// A zone made of nothing but a footer, read through locate like any other.
result<time_zone> from_footer(const temp_dir& dir, const std::string& footer, std::int32_t std_offset = 0)
{
    dir.write("Footer/Zone", tzif('2', {}, {{std_offset, false}}, footer));
    return time_zone::locate("Footer/Zone", dir.str());
}

void check_is_configuration_error(const result<time_zone>& r, const std::string& zone)
{
    INFO("zone " << zone);
    REQUIRE_FALSE(r.has_value());
    INFO("message: " << r.error().message);
    CHECK(r.error() == errc::invalid_configuration);
    CHECK(r.error().message.find("'" + zone + "'") != std::string::npos);
}

} // namespace

TEST_CASE("time_zone: offsets and local dates agree with the C library for real zones", "[core][time_zone]")
{
    for (const auto& name : real_zones) {
        INFO("zone " << name);
        const auto tz = time_zone::locate(name, default_zoneinfo);
        INFO((tz ? std::string{} : tz.error().message));
        REQUIRE(tz.has_value());
        CHECK(tz.value().name() == name);
        const reference ref(":" + name);
        // From before most zones' first transition (local mean time) to well past the end of
        // the tables (2037), where the footer's rule takes over; sparser before 1970.
        const std::string report = compare_with(tz.value(), ref, utc(1850, 1, 1), utc(1970, 1, 1), 25 * hour) +
                                   compare_with(tz.value(), ref, utc(1970, 1, 1), utc(2060, 1, 1));
        INFO(report);
        CHECK(report.empty());
    }
}

TEST_CASE("time_zone: known offsets", "[core][time_zone]")
{
    const auto berlin = time_zone::locate("Europe/Berlin", default_zoneinfo).value();
    CHECK(berlin.offset(at(utc(2025, 1, 15, 12))) == 1h);
    CHECK(berlin.offset(at(utc(2025, 7, 15, 12))) == 2h);
    // 2025-03-30 01:00 UTC: 02:00 CET becomes 03:00 CEST.
    CHECK(berlin.offset(at(utc(2025, 3, 30, 1) - 1)) == 1h);
    CHECK(berlin.offset(at(utc(2025, 3, 30, 1))) == 2h);
    // From the footer's rule: the last Sunday of March 2050 is the 27th.
    CHECK(berlin.offset(at(utc(2050, 3, 27, 1) - 1)) == 1h);
    CHECK(berlin.offset(at(utc(2050, 3, 27, 1))) == 2h);

    const auto kolkata = time_zone::locate("Asia/Kolkata", default_zoneinfo).value();
    CHECK(kolkata.offset(at(utc(2025, 6, 1))) == 5h + 30min);
    const auto lord_howe = time_zone::locate("Australia/Lord_Howe", default_zoneinfo).value();
    CHECK(lord_howe.offset(at(utc(2025, 1, 1))) == 11h);
    CHECK(lord_howe.offset(at(utc(2025, 7, 1))) == 10h + 30min);

    // Sub-second instants belong to the second they are in, also before 1970.
    const auto new_york = time_zone::locate("America/New_York", default_zoneinfo).value();
    CHECK(new_york.local_day(at(0) - 1ns) == -1);
    CHECK(new_york.local_day(at(5 * hour) - 1ns) == -1);
    CHECK(new_york.local_day(at(5 * hour)) == 0);
}

TEST_CASE("time_zone: day_start and next_day_start bound the local day, DST gaps at midnight included",
          "[core][time_zone]")
{
    std::vector<std::string> zones = real_zones;
    // Havana and Beirut move their clocks at midnight (M3.2.0/0, M3.5.0/0), Santiago at 24:00:
    // on those days the day starts at 01:00.
    zones.emplace_back("America/Havana");
    zones.emplace_back("Asia/Beirut");
    for (const auto& name : zones) {
        INFO("zone " << name);
        const auto tz = time_zone::locate(name, default_zoneinfo).value();
        const reference ref(":" + name);
        int failures = 0;
        std::string report;
        std::set<std::int64_t> late_starts;  // days that began after local midnight
        std::set<std::int64_t> after_a_skip; // days whose eve is not the previous date
        // An odd stride visits every local day, at times that drift through the day.
        for (std::int64_t s = utc(1970, 1, 1); s < utc(2060, 1, 1); s += 7 * hour + std::int64_t{13} * 60 + 17) {
            const std::int64_t day = ref.day(s);
            const std::int64_t start = seconds_of(tz.day_start(at(s)));
            const std::int64_t next = seconds_of(tz.next_day_start(at(s)));
            const bool ok = start <= s && s < next && ref.day(start) == day && ref.day(start - 1) < day &&
                            ref.day(next) > day && ref.day(next - 1) == day &&
                            seconds_of(tz.day_start(at(next))) == next &&
                            seconds_of(tz.next_day_start(at(start))) == next;
            if (!ok && ++failures <= 10)
                report += "at " + std::to_string(s) + ": start " + std::to_string(start) + ", next " +
                          std::to_string(next) + "\n";
            if (ref.seconds_into_day(start) != 0)
                late_starts.insert(day);
            if (ref.day(start - 1) != day - 1)
                after_a_skip.insert(day);
        }
        INFO(report);
        CHECK(failures == 0);
        if (name == "Pacific/Apia") // 2011-12-30 never happened in Samoa
            CHECK(after_a_skip == std::set<std::int64_t>{day_number(2011, 12, 31)});
        else
            CHECK(after_a_skip.empty());
        if (name == "America/Havana" || name == "Asia/Beirut" || name == "America/Santiago") {
            CHECK(late_starts.size() > 20);
            // Including days from the footer's rule, after the tables end.
            CHECK(*late_starts.rbegin() > day_number(2040, 1, 1));
        }
        if (name == "Europe/Berlin" || name == "UTC" || name == "Asia/Kolkata")
            CHECK(late_starts.empty());
    }
}

TEST_CASE("time_zone: a day that starts at 01:00 because midnight was skipped", "[core][time_zone]")
{
    const auto havana = time_zone::locate("America/Havana", default_zoneinfo).value();
    // 2025-03-09: at 00:00 CST (05:00 UTC) the clocks jumped to 01:00 CDT.
    const auto noon = at(utc(2025, 3, 9, 16));
    CHECK(havana.local_day(noon) == day_number(2025, 3, 9));
    CHECK(havana.day_start(noon) == at(utc(2025, 3, 9, 5)));
    CHECK(havana.local_day(havana.day_start(noon) - 1s) == day_number(2025, 3, 8));
    CHECK(havana.next_day_start(noon) == at(utc(2025, 3, 10, 4)));
    // The day before ends where this one starts.
    CHECK(havana.next_day_start(at(utc(2025, 3, 8, 16))) == at(utc(2025, 3, 9, 5)));
    // 2025-11-02: at 01:00 CDT the clocks went back to 00:00 CST; the day still began at 00:00 CDT.
    CHECK(havana.day_start(at(utc(2025, 11, 2, 16))) == at(utc(2025, 11, 2, 4)));
    CHECK(havana.next_day_start(at(utc(2025, 11, 2, 16))) == at(utc(2025, 11, 3, 5)));

    // Samoa skipped 2011-12-30: the 29th ran straight into the 31st.
    const auto apia = time_zone::locate("Pacific/Apia", default_zoneinfo).value();
    const auto skip = at(utc(2011, 12, 30, 10));
    CHECK(apia.local_day(skip - 1s) == day_number(2011, 12, 29));
    CHECK(apia.local_day(skip) == day_number(2011, 12, 31));
    CHECK(apia.next_day_start(skip - 5h) == skip);
    CHECK(apia.day_start(skip + 5h) == skip);
}

TEST_CASE("time_zone: its calendar arithmetic agrees with std::chrono's", "[core][time_zone]")
{
    using namespace std::chrono;
    namespace tz = llm::detail::tz;
    int mismatches = 0;
    for (std::int64_t d = -1'000'000; d < 1'000'000; d += 13) { // about 2,700 years either side of 1970
        const sys_days day{days{d}};
        const year_month_day ymd{day};
        const int y = static_cast<int>(ymd.year());
        if (tz::year_of_day(d) != y || tz::weekday_of_day(d) != static_cast<int>(weekday{day}.c_encoding()) ||
            tz::days_from_civil(y, static_cast<int>(static_cast<unsigned>(ymd.month())),
                                static_cast<int>(static_cast<unsigned>(ymd.day()))) != d)
            ++mismatches;
    }
    for (int y = 1600; y <= 2400; ++y) {
        const std::int64_t jan1 = sys_days{year{y} / January / 1}.time_since_epoch().count();
        const bool leap = year{y}.is_leap();
        for (unsigned m = 1; m <= 12; ++m)
            for (unsigned w = 1; w <= 5; ++w)
                for (unsigned wd = 0; wd <= 6; ++wd) {
                    const tz::rule_date r{'M', 0, static_cast<int>(m), static_cast<int>(w), static_cast<int>(wd), 0};
                    const sys_days expected = w == 5 ? sys_days{year{y} / month{m} / weekday{wd}[last]}
                                                     : sys_days{year{y} / month{m} / weekday{wd}[w]};
                    if (tz::rule_day(r, jan1, leap) != expected.time_since_epoch().count())
                        ++mismatches;
                }
        const tz::rule_date feb29_or_mar1{'n', 59};
        const tz::rule_date always_mar1{'J', 60};
        if (tz::rule_day(feb29_or_mar1, jan1, leap) != jan1 + 59 ||
            tz::rule_day(always_mar1, jan1, leap) != sys_days{year{y} / March / 1}.time_since_epoch().count())
            ++mismatches;
    }
    CHECK(mismatches == 0);
}

TEST_CASE("time_zone: UTC and fixed offsets", "[core][time_zone]")
{
    const auto u = time_zone::utc();
    CHECK(u.name() == "UTC");
    CHECK(u.offset(at(utc(2025, 6, 1))) == 0s);
    CHECK(u.local_day(at(utc(2025, 6, 1, 23, 59, 59))) == day_number(2025, 6, 1));
    CHECK(u.local_day(at(-1)) == -1);
    CHECK(u.day_start(at(utc(2025, 6, 1, 13))) == at(utc(2025, 6, 1)));
    CHECK(u.next_day_start(at(utc(2025, 6, 1, 13))) == at(utc(2025, 6, 2)));
    CHECK(u.next_day_start(at(utc(2025, 6, 1))) == at(utc(2025, 6, 2)));

    const auto india = time_zone::fixed(5h + 30min);
    REQUIRE(india.has_value());
    CHECK(india.value().name() == "UTC+05:30");
    CHECK(india.value().offset(at(utc(1900, 1, 1))) == 5h + 30min);
    CHECK(india.value().offset(at(utc(2200, 1, 1))) == 5h + 30min);
    CHECK(india.value().local_day(at(utc(2025, 6, 1, 18, 29, 59))) == day_number(2025, 6, 1));
    CHECK(india.value().local_day(at(utc(2025, 6, 1, 18, 30))) == day_number(2025, 6, 2));
    CHECK(india.value().day_start(at(utc(2025, 6, 2, 3))) == at(utc(2025, 6, 1, 18, 30)));
    CHECK(india.value().next_day_start(at(utc(2025, 6, 2, 3))) == at(utc(2025, 6, 2, 18, 30)));

    const auto west = time_zone::fixed(-3h);
    REQUIRE(west.has_value());
    CHECK(west.value().name() == "UTC-03:00");
    CHECK(west.value().local_day(at(2 * hour)) == -1); // 1969-12-31 23:00 local
    CHECK(west.value().day_start(at(2 * hour)) == at(3 * hour - day_seconds));
    CHECK(time_zone::fixed(0min).value().name() == "UTC+00:00");

    CHECK(time_zone::fixed(24h).has_value());
    CHECK(time_zone::fixed(-24h).has_value());
    const auto too_far = time_zone::fixed(24h + 1min);
    check_is_configuration_error(too_far, "UTC+24:01");
    check_is_configuration_error(time_zone::fixed(-25h), "UTC-25:00");
    CHECK_FALSE(time_zone::fixed(std::chrono::minutes::min()).has_value());
    CHECK_FALSE(time_zone::fixed(std::chrono::minutes::max()).has_value());
}

TEST_CASE("time_zone: copies share one table", "[core][time_zone]")
{
    const auto berlin = time_zone::locate("Europe/Berlin", default_zoneinfo).value();
    const time_zone copy = berlin; // NOLINT(performance-unnecessary-copy-initialization): the point
    CHECK(&copy.name() == &berlin.name());
    CHECK(copy.offset(at(utc(2025, 7, 1))) == 2h);
    const auto a = time_zone::utc();
    const auto b = time_zone::utc();
    CHECK(&a.name() == &b.name());
}

TEST_CASE("time_zone: footer TZ strings agree with the C library", "[core][time_zone]")
{
    const temp_dir dir;
    // Each string is also TZ for the C library, which parses it itself (no file has its name).
    const std::vector<std::string> strings = {
        "CET-1CEST,M3.5.0,M10.5.0/3",
        "<+0530>-5:30",
        "EST5EDT,M3.2.0,M11.1.0",
        "<-03>3",
        "<+13>-13",
        "<+1030>-10:30<+11>-11,M10.1.0,M4.1.0", // southern, 30-minute DST
        "<-04>4<-03>,M9.1.6/24,M4.1.6/24",      // changes at 24:00
        "CST5CDT,M3.2.0/0,M11.1.0/1",           // changes at midnight
        "IST-1GMT0,M10.5.0,M3.5.0/1",           // "daylight" time behind standard time
        "NZST-12NZDT,M9.5.0,M4.1.0/3",
        "AAA3BBB,J60/1,J300/-1",                 // Julian days, a negative time
        "AAA-2:15BBB-3:45:30,59/2:30:15,300/26", // zero-based days (59 is February 29 in leap years)
        "XXX3YYY2,M3.2.0/-1,M11.1.0/167",        // times from -1 to 167 hours
        "<-0330>+3:30<-0230>,M3.5.0/-2:30,M10.5.0/+1:30",
    };
    for (const auto& s : strings) {
        INFO("TZ string " << s);
        const auto tz = from_footer(dir, s);
        INFO((tz ? std::string{} : tz.error().message));
        REQUIRE(tz.has_value());
        const reference ref(s);
        const std::string report = compare_with(tz.value(), ref, utc(1970, 1, 1), utc(2060, 1, 1), 13 * hour);
        INFO(report);
        CHECK(report.empty());
    }
}

TEST_CASE("time_zone: footer rules the C library cannot check", "[core][time_zone]")
{
    const temp_dir dir;
    // DST without a rule: the US rule, as tzcode and glibc assume.
    const auto us = from_footer(dir, "EST5EDT").value();
    CHECK(us.offset(at(utc(2030, 1, 15))) == -5h);
    CHECK(us.offset(at(utc(2030, 7, 15))) == -4h);
    CHECK(us.offset(at(utc(2030, 3, 10, 7) - 1)) == -5h); // second Sunday of March, 02:00 EST
    CHECK(us.offset(at(utc(2030, 3, 10, 7))) == -4h);

    // tzcode's "daylight time all year": the end of one year's DST is the start of the next's.
    const auto always = from_footer(dir, "EST5EDT,0/0,J365/25").value();
    for (std::int64_t s = utc(2020, 1, 1); s < utc(2030, 1, 1); s += 7 * hour + 1)
        REQUIRE(always.offset(at(s)) == -4h);
    CHECK(always.offset(at(utc(2025, 1, 1, 4))) == -4h);

    // Without transitions the footer governs all instants (RFC 8536), even before 1970.
    const auto rule_only = from_footer(dir, "CET-1CEST,M3.5.0,M10.5.0/3").value();
    CHECK(rule_only.offset(at(utc(1900, 7, 1))) == 2h);
    CHECK(rule_only.offset(at(utc(1900, 1, 1))) == 1h);
}

TEST_CASE("time_zone: hand-made TZif files of each version", "[core][time_zone]")
{
    const temp_dir dir;
    // A DST type first: before the first transition the first standard type applies.
    const std::vector<local_type> types = {{7200, true}, {3600, false}, {-1800, false}};
    const std::vector<std::pair<std::int64_t, std::uint8_t>> transitions = {
        {utc(1980, 4, 1), 0}, {utc(1980, 10, 1), 1}, {utc(1990, 2, 3, 4, 5, 6), 2}, {utc(2000, 1, 1), 1}};
    for (const char version : {'\0', '2', '3', '4'}) {
        INFO("version " << (version == 0 ? '1' : version));
        const auto path = dir.write("Hand/Made", tzif(version, transitions, types, ""));
        const auto tz = time_zone::locate("Hand/Made", dir.str());
        INFO((tz ? std::string{} : tz.error().message));
        REQUIRE(tz.has_value());
        CHECK(tz.value().offset(at(utc(1970, 1, 1))) == 1h);
        CHECK(tz.value().offset(at(utc(1980, 4, 1))) == 2h);
        CHECK(tz.value().offset(at(utc(1990, 2, 3, 4, 5, 6) - 1)) == 1h);
        CHECK(tz.value().offset(at(utc(1990, 2, 3, 4, 5, 6))) == -30min);
        CHECK(tz.value().offset(at(utc(2050, 1, 1))) == 1h); // no footer: the last type holds
        const reference ref(":" + path);
        const std::string report = compare_with(tz.value(), ref, utc(1960, 1, 1), utc(2040, 1, 1));
        INFO(report);
        CHECK(report.empty());
    }
}

TEST_CASE("time_zone: TZDIR names the default directory", "[core][time_zone]")
{
    const temp_dir dir;
    dir.write("Test/Plus_Three", tzif('2', {}, {{3 * 3600, false}}, "<+03>-3"));
    {
        const env_override tzdir("TZDIR", dir.str());
        const auto tz = time_zone::locate("Test/Plus_Three");
        REQUIRE(tz.has_value());
        CHECK(tz.value().offset(at(utc(2025, 1, 1))) == 3h);
        CHECK_FALSE(time_zone::locate("Europe/Berlin").has_value());
    }
    // An explicit directory wins over TZDIR.
    const env_override tzdir("TZDIR", dir.str());
    CHECK(time_zone::locate("Europe/Berlin", default_zoneinfo).has_value());
}

TEST_CASE("time_zone: names outside the zoneinfo directory are refused", "[core][time_zone]")
{
    for (const std::string name :
         {"../etc/passwd", "/etc/localtime", "", "Europe/../../etc/passwd", "..", "Europe/.."}) {
        const auto tz = time_zone::locate(name, default_zoneinfo);
        check_is_configuration_error(tz, name);
        CHECK(tz.error().message.find("Europe/Berlin") != std::string::npos); // what to do instead
    }
    // A NUL would cut the path short in fopen.
    check_is_configuration_error(time_zone::locate(std::string_view{"Europe/Berlin\0x", 15}, default_zoneinfo),
                                 "Europe/Berlin?x");
    // ".." inside a component is just a name.
    const auto dotted = time_zone::locate("No..Such", default_zoneinfo);
    check_is_configuration_error(dotted, "No..Such");
    CHECK(dotted.error().message.find("not found") != std::string::npos);
}

TEST_CASE("time_zone: a missing zone names the zone and the directory", "[core][time_zone]")
{
    const auto tz = time_zone::locate("No/Such_Zone", default_zoneinfo);
    check_is_configuration_error(tz, "No/Such_Zone");
    CHECK(tz.error().message.find(default_zoneinfo) != std::string::npos);
    CHECK(tz.error().message.find("TZDIR") != std::string::npos);

    const temp_dir dir;
    const auto elsewhere = time_zone::locate("Europe/Berlin", dir.str());
    check_is_configuration_error(elsewhere, "Europe/Berlin");
    CHECK(elsewhere.error().message.find(dir.str()) != std::string::npos);

    const auto directory = time_zone::locate("Europe", default_zoneinfo);
    check_is_configuration_error(directory, "Europe");
}

TEST_CASE("time_zone: corrupt files are refused with what is wrong", "[core][time_zone]")
{
    const temp_dir dir;
    const std::string berlin = read_bytes(default_zoneinfo + "/Europe/Berlin");
    REQUIRE(berlin.size() > 1000);

    SECTION("every truncation of a real file")
    {
        for (std::size_t size = 0; size < berlin.size(); ++size) {
            const auto path = dir.write("Cut/Zone", berlin.substr(0, size));
            const auto tz = time_zone::locate("Cut/Zone", dir.str());
            INFO("truncated to " << size << " bytes");
            check_is_configuration_error(tz, "Cut/Zone");
            CHECK(tz.error().message.find(path) != std::string::npos);
            CHECK(tz.error().message.find("is not a valid TZif file (") != std::string::npos);
        }
        const auto whole = dir.write("Cut/Zone", berlin);
        CHECK(time_zone::locate("Cut/Zone", dir.str()).has_value());
    }

    SECTION("a bad magic")
    {
        std::string bad = berlin;
        bad[3] = 'g';
        dir.write("Bad/Magic", bad);
        const auto tz = time_zone::locate("Bad/Magic", dir.str());
        check_is_configuration_error(tz, "Bad/Magic");
        CHECK(tz.error().message.find("magic") != std::string::npos);
    }

    SECTION("broken fields")
    {
        const std::vector<local_type> one = {{3600, false}};
        const std::vector<std::pair<std::string, std::string>> cases = {
            {tzif('2', {{100, 0}, {50, 0}}, one, ""), "ascending"},
            {tzif('2', {{100, 1}}, one, ""), "local time type"},
            {tzif('2', {}, {{100000, false}}, ""), "UT offset"},
            {tzif('2', {}, {}, ""), "no local time types"},
            {tzif('1', {}, one, ""), "version"},
            {tzif('2', {}, one, "EST"), "TZ string"},
            {tzif('2', {}, one, "EST5EDT,M13.1.0,M11.1.0"), "TZ string"},
            {tzif('2', {}, one, "EST5EDT,M3.2.0"), "TZ string"},
            {tzif('2', {}, one, "EST5EDT,M3.2.0/168,M11.1.0"), "TZ string"},
            {tzif('2', {}, one, "EST25"), "TZ string"},
            {tzif('2', {}, one, "<+05-5"), "TZ string"},
            {tzif('2', {}, one, "EST5 "), "TZ string"},
            {tzif('2', {}, one, "EST5EDT,J0,J365"), "TZ string"},
            {tzif('2', {}, one, "EST5EDT,366,1"), "TZ string"},
        };
        for (const auto& [bytes, problem] : cases) {
            dir.write("Broken/Zone", bytes);
            const auto tz = time_zone::locate("Broken/Zone", dir.str());
            INFO("expecting " << problem);
            check_is_configuration_error(tz, "Broken/Zone");
            CHECK(tz.error().message.find(problem) != std::string::npos);
        }
        // No footer where version 2 needs one.
        std::string no_footer = tzif('2', {}, one, "");
        no_footer.resize(no_footer.size() - 2);
        dir.write("Broken/Zone", no_footer);
        check_is_configuration_error(time_zone::locate("Broken/Zone", dir.str()), "Broken/Zone");
    }

    SECTION("leap seconds")
    {
        dir.write("Leap/Zone", tzif('2', {}, {{0, false}}, "UTC0", 2));
        const auto tz = time_zone::locate("Leap/Zone", dir.str());
        check_is_configuration_error(tz, "Leap/Zone");
        CHECK(tz.error().message.find("leap seconds") != std::string::npos);
        if (std::filesystem::exists(default_zoneinfo + "/right/Europe/Berlin"))
            check_is_configuration_error(time_zone::locate("right/Europe/Berlin", default_zoneinfo),
                                         "right/Europe/Berlin");
    }
}

TEST_CASE("time_zone: garbage never crashes, and whatever loads behaves", "[core][time_zone]")
{
    const temp_dir dir;
    const std::string berlin = read_bytes(default_zoneinfo + "/Europe/Berlin");
    std::mt19937 rng(20250101);
    auto byte = [&] { return static_cast<char>(rng() & 0xff); };
    int loaded = 0;
    int refused = 0;
    int misbehaved = 0;
    std::string report;
    auto exercise = [&](const std::string& bytes) {
        dir.write("Fuzz/Zone", bytes);
        const auto tz = time_zone::locate("Fuzz/Zone", dir.str());
        if (!tz) {
            ++refused;
            if ((tz.error() != errc::invalid_configuration ||
                 tz.error().message.find("'Fuzz/Zone'") == std::string::npos) &&
                ++misbehaved <= 5)
                report += "refused with: " + tz.error().message + "\n";
            return;
        }
        ++loaded;
        const time_zone& z = tz.value();
        for (const auto t : {time_point::min(), time_point::max(), at(0)})
            (void)z.day_start(t), (void)z.next_day_start(t), (void)z.local_day(t), (void)z.offset(t);
        for (std::int64_t s = utc(1900, 1, 1); s < utc(2100, 1, 1); s += 97 * day_seconds + 12345) {
            const std::int64_t start = seconds_of(z.day_start(at(s)));
            const std::int64_t next = seconds_of(z.next_day_start(at(s)));
            const std::int64_t day = z.local_day(at(s));
            if (!(start <= s && s < next && z.local_day(at(start)) == day && z.local_day(at(next - 1)) == day &&
                  z.local_day(at(start - 1)) != day && z.local_day(at(next)) != day) &&
                ++misbehaved <= 5)
                report += "at " + std::to_string(s) + ": start " + std::to_string(start) + ", next " +
                          std::to_string(next) + "\n";
        }
    };

    for (int i = 0; i < 300; ++i) { // noise
        std::string bytes(rng() % 300, '\0');
        for (auto& c : bytes)
            c = byte();
        exercise(bytes);
    }
    for (int i = 0; i < 300; ++i) { // noise behind a valid magic and version
        const char versions[] = {'\0', '2', '3', '4'};
        std::string bytes = std::string{"TZif"} + versions[rng() % 4];
        bytes.resize(5 + rng() % 400);
        for (std::size_t j = 5; j < bytes.size(); ++j)
            bytes[j] = (rng() % 3 == 0) ? byte() : '\0';
        exercise(bytes);
    }
    for (int i = 0; i < 1500; ++i) { // a real file with a few bytes changed
        std::string bytes = berlin;
        for (unsigned k = 0, n = 1 + rng() % 4; k < n; ++k)
            bytes[rng() % bytes.size()] = byte();
        exercise(bytes);
    }
    INFO(report);
    CHECK(misbehaved == 0);
    CHECK(refused > 0);
    CHECK(loaded > 0);
}
