// D2L §15.10 "Deep Factorization Machines", as a curec program: 10 factors, MLP 30-20-10
// (ReLU, dropout 0.1), Adam lr 0.01, 30 epochs of batch 2048, binary cross-entropy.
//   book_deepfm [cpu|cuda[:N]] [data] [--early-stop]
#include "examples/ctr_program.h"

int main(int argc, char** argv) {
  return curec::examples::run_ctr_program("book_deepfm", true, argc, argv);
}
