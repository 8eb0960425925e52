#include "pki/digest.h"
