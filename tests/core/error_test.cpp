// The "llm" error category, llm::error and llm::result.
#include <llm/core/result.hpp>

#include <catch2/catch.hpp>

#include <set>

using namespace llm;

namespace {
constexpr errc every_code[] = {errc::rate_limited,   errc::budget_exceeded,         errc::timeout,
                               errc::cancelled,      errc::provider_unavailable,    errc::bad_request,
                               errc::unauthorized,   errc::malformed_response,      errc::invalid_configuration,
                               errc::internal_error, errc::tls_verification_failed, errc::store_unavailable};
} // namespace

TEST_CASE("every error code has its own message that says what to do", "[core][error]")
{
    std::set<std::string> seen;
    for (auto code : every_code) {
        std::error_code ec = code;
        CHECK(ec.category().name() == std::string_view("llm"));
        CHECK(ec.value() != 0);
        const auto message = ec.message();
        CHECK(message != "unknown llm error");
        CHECK(seen.insert(message).second);
    }
    CHECK(std::error_code(static_cast<errc>(9999)).message() == "unknown llm error");
}

TEST_CASE("error codes map to the portable std::errc conditions where they fit", "[core][error]")
{
    CHECK(std::error_code(errc::timeout) == std::errc::timed_out);
    CHECK(std::error_code(errc::cancelled) == std::errc::operation_canceled);
    CHECK(std::error_code(errc::bad_request) == std::errc::invalid_argument);
    CHECK(std::error_code(errc::unauthorized) == std::errc::permission_denied);
    CHECK(std::error_code(errc::rate_limited) == std::errc::resource_unavailable_try_again);
    CHECK(std::error_code(errc::budget_exceeded) != std::errc::resource_unavailable_try_again);
}

TEST_CASE("the category is one object across translation units", "[core][error]")
{
    CHECK(&error_category() == &std::error_code(errc::timeout).category());
}

TEST_CASE("an error describes its code, HTTP status and provider message together", "[core][error]")
{
    error e{errc::rate_limited, "Too many requests"};
    e.http_status = 429;
    CHECK(e.describe() == "rate limited: wait for retry_after, then send again (HTTP 429: Too many requests)");
    CHECK(error{errc::timeout}.describe() == "timed out: retry, or raise the timeout");
    CHECK(e == errc::rate_limited);
    CHECK_FALSE(e == errc::timeout);
}

TEST_CASE("a result carries a value or an error with its details", "[core][error]")
{
    result<int> ok = 42;
    REQUIRE(ok);
    CHECK(ok.value() == 42);

    error e{errc::rate_limited, "slow down"};
    e.retry_after = std::chrono::milliseconds(1500);
    result<int> refused = e;
    REQUIRE_FALSE(refused);
    CHECK(refused.error() == errc::rate_limited);
    CHECK(refused.error().retry_after == std::chrono::milliseconds(1500));
}

TEST_CASE("value() on a failed result throws std::system_error with the code", "[core][error]")
{
    result<int> failed = error{errc::unauthorized, "key revoked"};
    try {
        (void)failed.value();
        FAIL("value() did not throw");
    } catch (const std::system_error& ex) {
        CHECK(ex.code() == errc::unauthorized);
        CHECK_THAT(ex.what(), Catch::Contains("key revoked"));
    }
}

namespace {
result<int> parse_positive(int v)
{
    if (v <= 0)
        return fail(errc::bad_request, "must be positive");
    return v;
}
result<int> doubled(int v)
{
    BOOST_OUTCOME_TRY(auto n, parse_positive(v));
    return n * 2;
}
} // namespace

TEST_CASE("BOOST_OUTCOME_TRY propagates an llm::error unchanged", "[core][error]")
{
    CHECK(doubled(4).value() == 8);
    auto bad = doubled(-1);
    REQUIRE_FALSE(bad);
    CHECK(bad.error() == errc::bad_request);
    CHECK(bad.error().message == "must be positive");
}
