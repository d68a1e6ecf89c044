#include <stdio.h>
#include <string.h>

int main(int argc, char **argv) {
  if (argc > 1 && strcmp(argv[1], "--answer") == 0) {
    printf("42\n");
    return 0;
  }
  printf("hello from a sandbox\n");
  return 0;
}
