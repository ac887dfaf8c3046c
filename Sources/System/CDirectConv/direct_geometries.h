// clang-format off
// (loops led by FM_UNROLL: see .clang-format)
#ifndef FACEMINE_DIRECT_GEOMETRIES_H
#define FACEMINE_DIRECT_GEOMETRIES_H
// The one table of the direct convolutions' geometries (direct_conv.c). Each row names a
// geometry and says which kernel body runs it for the forward pass, the input gradient and the
// weight gradient; the lookup arrays, the dispatch switches and the list the tests walk
// (fm_direct_geometry_count / fm_direct_geometry_shape) are all generated from it, so a new
// geometry is one new row.
//
// X(ID, "name", kernel, in width, out width, stride, forward, input gradient, weight gradient)
// The three bodies are calls written with FORWARD_ARGS, INPUT_GRAD_ARGS and WEIGHT_GRAD_ARGS,
// the dispatching function's arguments in the order the kernel families take them; the
// constants after them are the kernel family's compile-time shape parameters:
//   apply_blocks(..., in width, out width, stride, transposed, images per tile, strip)
//   rows_blocks(..., out width, stride, transposed)
//   pw_blocks(..., in width, out width, transposed, images per tile)
//   weight_grad_blocks(..., in width, out width, stride, strip)
//   row_weight_grad_blocks(..., width, images outermost)
//   s2_weight_grad_blocks(..., out width)
//   pw_weight_grad_blocks(..., in width, out width)
#define FM_DIRECT_GEOMETRIES(X)                                                                               \
    X(FM_3X3_2_TO_2, "3x3 2x2->2x2", 3, 2, 2, 1, apply_blocks(FORWARD_ARGS, 2, 2, 1, 0, 4, 4),                \
      apply_blocks(INPUT_GRAD_ARGS, 2, 2, 1, 1, 4, 4), weight_grad_blocks(WEIGHT_GRAD_ARGS, 2, 2, 1, 4))      \
    X(FM_3X3_3_TO_2_S2, "3x3 3x3->2x2 s2", 3, 3, 2, 2, apply_blocks(FORWARD_ARGS, 3, 2, 2, 0, 4, 4),         \
      apply_blocks(INPUT_GRAD_ARGS, 3, 2, 2, 1, 2, 9), weight_grad_blocks(WEIGHT_GRAD_ARGS, 3, 2, 2, 4))      \
    X(FM_3X3_3_TO_3, "3x3 3x3->3x3", 3, 3, 3, 1, apply_blocks(FORWARD_ARGS, 3, 3, 1, 0, 2, 9),                \
      apply_blocks(INPUT_GRAD_ARGS, 3, 3, 1, 1, 2, 9), weight_grad_blocks(WEIGHT_GRAD_ARGS, 3, 3, 1, 9))      \
    X(FM_3X3_6_TO_6, "3x3 6x6->6x6", 3, 6, 6, 1, apply_blocks(FORWARD_ARGS, 6, 6, 1, 0, 3, 6),                \
      apply_blocks(INPUT_GRAD_ARGS, 6, 6, 1, 1, 3, 6), weight_grad_blocks(WEIGHT_GRAD_ARGS, 6, 6, 1, 6))      \
    X(FM_3X3_12_TO_12, "3x3 12x12->12x12", 3, 12, 12, 1, rows_blocks(FORWARD_ARGS, 12, 1, 0),                 \
      rows_blocks(INPUT_GRAD_ARGS, 12, 1, 1), row_weight_grad_blocks(WEIGHT_GRAD_ARGS, 12, 0))                 \
    X(FM_3X3_24_TO_24, "3x3 24x24->24x24", 3, 24, 24, 1, rows_blocks(FORWARD_ARGS, 24, 1, 0),                 \
      rows_blocks(INPUT_GRAD_ARGS, 24, 1, 1), row_weight_grad_blocks(WEIGHT_GRAD_ARGS, 24, 0))                 \
    X(FM_3X3_48_TO_48, "3x3 48x48->48x48", 3, 48, 48, 1, rows_blocks(FORWARD_ARGS, 48, 1, 0),                 \
      rows_blocks(INPUT_GRAD_ARGS, 48, 1, 1), row_weight_grad_blocks(WEIGHT_GRAD_ARGS, 48, 1))                 \
    X(FM_3X3_6_TO_3_S2, "3x3 6x6->3x3 s2", 3, 6, 3, 2, apply_blocks(FORWARD_ARGS, 6, 3, 2, 0, 2, 9),         \
      apply_blocks(INPUT_GRAD_ARGS, 6, 3, 2, 1, 3, 6), weight_grad_blocks(WEIGHT_GRAD_ARGS, 6, 3, 2, 9))      \
    X(FM_3X3_12_TO_6_S2, "3x3 12x12->6x6 s2", 3, 12, 6, 2, rows_blocks(FORWARD_ARGS, 6, 2, 0),               \
      rows_blocks(INPUT_GRAD_ARGS, 6, 2, 1), s2_weight_grad_blocks(WEIGHT_GRAD_ARGS, 6))                       \
    X(FM_3X3_24_TO_12_S2, "3x3 24x24->12x12 s2", 3, 24, 12, 2, rows_blocks(FORWARD_ARGS, 12, 2, 0),          \
      rows_blocks(INPUT_GRAD_ARGS, 12, 2, 1), s2_weight_grad_blocks(WEIGHT_GRAD_ARGS, 12))                     \
    X(FM_3X3_48_TO_24_S2, "3x3 48x48->24x24 s2", 3, 48, 24, 2, rows_blocks(FORWARD_ARGS, 24, 2, 0),          \
      rows_blocks(INPUT_GRAD_ARGS, 24, 2, 1), s2_weight_grad_blocks(WEIGHT_GRAD_ARGS, 24))                     \
    X(FM_1X1_6_TO_3_S2, "1x1 6x6->3x3 s2", 1, 6, 3, 2, pw_blocks(FORWARD_ARGS, 6, 3, 0, 2),                  \
      pw_blocks(INPUT_GRAD_ARGS, 6, 3, 1, 2), pw_weight_grad_blocks(WEIGHT_GRAD_ARGS, 6, 3))                   \
    X(FM_1X1_3_TO_2_S2, "1x1 3x3->2x2 s2", 1, 3, 2, 2, pw_blocks(FORWARD_ARGS, 3, 2, 0, 4),                  \
      pw_blocks(INPUT_GRAD_ARGS, 3, 2, 1, 4), pw_weight_grad_blocks(WEIGHT_GRAD_ARGS, 3, 2))

#define FM_GEOMETRY_ID(ID, NAME, K, IN_W, OUT_W, S, FORWARD, INPUT_GRAD, WEIGHT_GRAD) ID,
enum { FM_DIRECT_GEOMETRIES(FM_GEOMETRY_ID) FM_DIRECT_GEOMETRY_COUNT };
#undef FM_GEOMETRY_ID
#endif
