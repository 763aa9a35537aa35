/* labs.c - every lab the grader knows: adding a lab is adding its table here. */
#include "grader.h"

extern const struct lab lab1_lamport;

const struct lab *const g_labs[] = {&lab1_lamport};
const int g_nlabs = sizeof g_labs / sizeof *g_labs;
