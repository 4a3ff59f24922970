// llm::result<T>: a value or an llm::error, built on Boost.Outcome.
// Failures travel as values through every completion token; .value() on a failed result
// throws std::system_error for callers who prefer exceptions.
#pragma once

#include <llm/core/error.hpp>

#include <boost/outcome/std_result.hpp> // std_result
#include <boost/outcome/try.hpp>        // BOOST_OUTCOME_TRY, BOOST_OUTCOME_CO_TRY

namespace llm {

template <class T>
using result = BOOST_OUTCOME_V2_NAMESPACE::std_result<T, error>;

using BOOST_OUTCOME_V2_NAMESPACE::success;

// Shorthand for `return llm::fail(errc::bad_request, "messages is empty");`.
inline auto fail(errc code, std::string message = {})
{
    return BOOST_OUTCOME_V2_NAMESPACE::failure(error{code, std::move(message)});
}

} // namespace llm
