#include "pki/general_name.h"
