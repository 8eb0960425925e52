#include "pki/public_key.h"
