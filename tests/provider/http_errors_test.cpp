// What every provider's error decoding shares: status to errc, and when to retry, from every
// header form the providers use; bad values are ignored, never misread.
#include <llm/provider/detail/http_errors.hpp>

#include <catch2/catch.hpp>

using namespace llm;
using namespace llm::provider::detail;
using namespace std::chrono_literals;

namespace {
http::response answer(int status, std::vector<std::pair<std::string, std::string>> headers)
{
    http::response r;
    r.status = status;
    for (auto& [n, v] : headers)
        r.headers.add(n, v);
    return r;
}

// 2026-02-25T20:02:00Z
const sys_time now = std::chrono::sys_days(std::chrono::year(2026) / 2 / 25) + 20h + 2min;
} // namespace

TEST_CASE("each HTTP status means what a caller must do", "[provider][errors]")
{
    CHECK(errc_for_status(429) == errc::rate_limited);
    CHECK(errc_for_status(408) == errc::timeout);
    CHECK(errc_for_status(401) == errc::unauthorized);
    CHECK(errc_for_status(403) == errc::unauthorized);
    for (int s : {500, 502, 503, 504, 529})
        CHECK(errc_for_status(s) == errc::provider_unavailable);
    for (int s : {400, 404, 409, 413, 422})
        CHECK(errc_for_status(s) == errc::bad_request);
}

TEST_CASE("durations and times in the providers' forms", "[provider][errors]")
{
    CHECK(seconds_text("37") == 37s);
    CHECK(seconds_text("34.4") == 34400ms);
    CHECK(seconds_text("0.0015") == 1ms);
    for (const char* bad : {"", ".", "-1", "1e3", "12s", "999999999999"})
        CHECK_FALSE(seconds_text(bad));
    CHECK(duration_text("1s") == 1s);
    CHECK(duration_text("6m0s") == 6min);
    CHECK(duration_text("20ms") == 20ms);
    CHECK(duration_text("1h2m3.5s") == 1h + 2min + 3500ms);
    CHECK(duration_text("34.4s") == 34400ms);
    for (const char* bad : {"", "5", "5x", "s", "1s2"})
        CHECK_FALSE(duration_text(bad));
    CHECK(http_date("Wed, 25 Feb 2026 20:02:37 GMT") == now + 37s);
    for (const char* bad : {"Wed, 25 Fob 2026 20:02:37 GMT", "Wed, 31 Feb 2026 20:02:37 GMT",
                            "Wed, 25 Feb 2026 20:02:37 UTC", "Wednesday, 25-Feb-26 20:02:37 GMT"})
        CHECK_FALSE(http_date(bad));
    CHECK(rfc3339_time("2026-02-25T20:02:37Z") == now + 37s);
    CHECK(rfc3339_time("2026-02-25T20:02:37.250Z") == now + 37s);
    CHECK(rfc3339_time("2026-02-25T21:02:37+01:00") == now + 37s);
    for (const char* bad : {"2026-02-25 20:02:37", "2026-13-25T20:02:37Z", "2026-02-25T20:02:37"})
        CHECK_FALSE(rfc3339_time(bad));
}

TEST_CASE("retry_after: retry-after-ms, Retry-After in seconds or as a date, then the reset headers",
          "[provider][errors]")
{
    auto after = [](const http::response& a) { return retry_after_of(a, rate_limits_of(a.headers), now); };
    CHECK(after(answer(429, {{"retry-after-ms", "1500"}, {"retry-after", "9"}})) == 1500ms);
    CHECK(after(answer(503, {{"Retry-After", "9"}})) == 9s);
    CHECK(after(answer(429, {{"Retry-After", "Wed, 25 Feb 2026 20:03:00 GMT"}})) == 60s);
    CHECK(after(answer(429, {{"Retry-After", "Wed, 25 Feb 2026 20:00:00 GMT"}})) == 0ms); // already past
    CHECK_FALSE(after(answer(429, {{"Retry-After", "soon"}})));
    // OpenAI's resets: the spent limit's.
    CHECK(after(answer(429, {{"x-ratelimit-remaining-requests", "10"},
                             {"x-ratelimit-reset-requests", "1s"},
                             {"x-ratelimit-remaining-tokens", "0"},
                             {"x-ratelimit-reset-tokens", "6m0s"}})) == 6min);
    // Anthropic's resets, as times.
    CHECK(after(answer(429, {{"anthropic-ratelimit-requests-remaining", "0"},
                             {"anthropic-ratelimit-requests-reset", "2026-02-25T20:02:37Z"},
                             {"anthropic-ratelimit-tokens-remaining", "500"},
                             {"anthropic-ratelimit-tokens-reset", "2026-02-25T20:05:00Z"}})) == 37s);
    // Reset headers count for a 429 only.
    CHECK_FALSE(after(answer(500, {{"x-ratelimit-remaining-tokens", "0"}, {"x-ratelimit-reset-tokens", "6m0s"}})));
}

TEST_CASE("an HTTP error names the provider and keeps the rate-limit headers", "[provider][errors]")
{
    const auto e = http_error(answer(429, {{"X-RateLimit-Remaining-Tokens", "0"}, {"Server", "x"}}), "openai", "tokens",
                              "Slow down", now);
    CHECK(e == errc::rate_limited);
    CHECK(e.http_status == 429);
    CHECK(e.provider_type == "tokens");
    CHECK(e.message == "openai: Slow down");
    CHECK(e.rate_limits.fields ==
          std::vector<std::pair<std::string, std::string>>{{"x-ratelimit-remaining-tokens", "0"}});
    CHECK(e.rate_limits.remaining_tokens() == 0u);
    CHECK_FALSE(e.rate_limits.remaining_requests());
    CHECK(http_error(answer(500, {}), "gemini", {}, {}, now).message == "gemini: the provider gave no message");
}
