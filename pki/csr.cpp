#include "pki/csr.h"
