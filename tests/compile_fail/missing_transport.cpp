// expect: needs exactly one transport
#include <llm/client.hpp>

int main()
{
    return sizeof(llm::client<llm::retry::none>);
}
