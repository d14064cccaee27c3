namespace Codesign.IR.Semantics;

public static class ShapeKernels
{
    /// <summary>Row gather: y[i] = table[ids[i]]; an id outside the table is an error naming it.</summary>
    public static float[] Gather(ReadOnlySpan<float> table, int rows, int d, ReadOnlySpan<int> ids, string op)
    {
        var y = new float[(long)ids.Length * d];
        for (int i = 0; i < ids.Length; i++)
        {
            int id = ids[i];
            if ((uint)id >= (uint)rows)
                throw new ArgumentOutOfRangeException(nameof(ids), $"{op}: index {id} at position {i} is outside [0, {rows})");
            table.Slice(id * d, d).CopyTo(y.AsSpan(i * d, d));
        }
        return y;
    }

    /// <summary>y = x transposed by perm (y's axis a is x's axis perm[a]).</summary>
    public static float[] Transpose(ReadOnlySpan<float> x, int[] shape, int[] perm)
    {
        int rank = shape.Length;
        var outShape = new int[rank];
        for (int a = 0; a < rank; a++) outShape[a] = shape[perm[a]];
        var inStrides = new long[rank];
        long stride = 1;
        for (int a = rank - 1; a >= 0; a--) { inStrides[a] = stride; stride *= shape[a]; }
        var y = new float[x.Length];
        var index = new int[rank];
        for (long o = 0; o < y.Length; o++)
        {
            long src = 0;
            for (int a = 0; a < rank; a++) src += index[a] * inStrides[perm[a]];
            y[o] = x[(int)src];
            for (int a = rank - 1; a >= 0; a--)
            {
                if (++index[a] < outShape[a]) break;
                index[a] = 0;
            }
        }
        return y;
    }
}
