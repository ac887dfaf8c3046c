// libjpeg(-turbo). jpeglib.h needs stdio.h's FILE declared first.
#include <stdio.h>
#include <jpeglib.h>
