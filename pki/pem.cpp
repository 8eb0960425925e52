#include "pki/pem.h"
