// expect: ambiguous
// After `using namespace llm`, system("...") must not silently call the C library's system()
// and run a shell command: it is a compile error instead.
#include <llm/core/message.hpp>

#include <cstdlib>

using namespace llm;

int main()
{
    auto m = system("echo this must never run");
    (void)m;
}
