using Codesign.Backends.Fpga.Isa;
using Codesign.Backends.Fpga.Simulation;

namespace Codesign.Backends.Fpga.Cores;

/// <summary>CoreTiming's model of one core: fetcher, channel, rings, consumer, pipeline and output FIFO, as counts.</summary>
public static partial class CoreTiming
{
    /// <summary>One core: its fetcher, channel, rings, consumer, pipeline and output FIFO, as counts.</summary>
    private sealed class Core
    {
        private const int S = 0, Z = 1, O = 2, C = 3;
        private readonly CoreJob _o;
        private readonly MatrixCoreDesign _d;
        private readonly CorePort _port;
        private readonly int _w, _rows, _row0, _groups, _glen, _rlog, _spanCap, _bits, _mlog, _scaleBytes;
        private readonly bool _sparse, _asym, _strided;
        private readonly long _base;
        private readonly long[] _secStart = new long[4], _secEnd = new long[4], _secRow = new long[4];
        private readonly bool[] _secOn = new bool[4];
        private readonly int[] _cap;
        private readonly long _beatsC, _beatsO;
        private readonly int _skipS, _skipZ, _skipC, _skipO;

        // fetcher
        private enum F { Idle, Setup, Row, Walk, Done }
        private F _f = F.Idle;
        private long _fSetupLeft;
        private int _fr, _fsec;
        private readonly long[] _blkEnd = new long[4], _nxt = new long[4];
        private int _outstanding;
        private readonly int[] _reserved = new int[4];
        // channel
        private readonly Queue<(int Beats, long Ready, int Section)> _bursts = new();
        private int _headDone;
        private double _credit;
        // rings: beats present
        private readonly int[] _present = new int[4];
        // consumer
        private enum K { Idle, Setup, Wait, Run, Drain, Done, Append }
        private K _k = K.Idle;
        private int _kr, _j, _gi, _gstart, _col, _cv, _ov, _se, _ze, _drain;
        private long _cIn, _oIn;
        private long _rowWord;
        private int _ri;
        // pipeline: output pushes at a cycle (row outputs: their word, whether they end the activation row's slice)
        private readonly Queue<(long Cycle, long Word, bool SetLast)> _rowOutputs = new();
        private int _outputs;
        private long _doneCycle = long.MaxValue;
        // appending: the writes of the current row left, and the cycles their responses come back
        private int _writesLeft;
        private readonly Queue<long> _responses = new();

        public Core(CoreJob o, MatrixCoreDesign d, CorePort port)
        {
            _o = o;
            _d = d;
            _port = port;
            _w = d.BeatBytes;
            (_row0, _rows) = (o.Row0, o.Rows);
            _glen = o.Glen;
            _groups = o.Groups;
            _bits = o.Bits;
            _sparse = o.Sparse;
            _mlog = o.Mlog;
            _asym = o.Asym;
            _scaleBytes = o.ScaleBytes;
            _strided = o.Mode == ModeValues;
            int lanesCap = _bits == 8 ? d.Lanes / 2 : d.Lanes;
            _spanCap = _sparse ? 2 * lanesCap : lanesCap;
            _rlog = o.Rlog;
            _base = o.Base;
            int kept = MatrixCoreRules.KeptPerRow(o.K, _sparse);
            long rowCode = (long)kept * _bits / 8, rowIdx = _sparse ? (long)kept * _mlog / 8 : 0;
            long pIdx = _rows * rowIdx, pCode = _rows * rowCode, pGrp = (long)_rows * _groups;
            // a matrix slice's codes are placed as fetched; attention's for the instruction's rows and stride
            long pPlace = o.Mode == ModeMatrix ? pCode : o.PlaceRows * o.PlaceBytes;
            static long Align16(long v) => (v + 15) & ~15L;
            long codesAt = _sparse ? Align16(pIdx) : 0, scalesAt = Align16(codesAt + pPlace), scaleBytes = pGrp * _scaleBytes, zerosAt = Align16(scalesAt + scaleBytes);
            (_secStart[S], _secEnd[S], _secRow[S], _secOn[S]) = (scalesAt, scalesAt + scaleBytes, (long)_groups * _scaleBytes, true);
            (_secStart[Z], _secEnd[Z], _secRow[Z], _secOn[Z]) = (zerosAt, zerosAt + pGrp, _groups, _asym);
            (_secStart[O], _secEnd[O], _secRow[O], _secOn[O]) = (0, pIdx, rowIdx, _sparse);
            (_secStart[C], _secEnd[C], _secRow[C], _secOn[C]) = (codesAt, _strided ? codesAt + pPlace - o.PlaceBytes + rowCode : codesAt + pCode, rowCode, true);
            _cap = [d.ScaleBeats, d.ZeroBeats, d.OffsetBeats, d.CodeBeats];
            _beatsC = _strided ? pCode / _w : (_base + _secEnd[C] + _w - 1) / _w - (_base + _secStart[C]) / _w;
            _beatsO = (_base + _secEnd[O] + _w - 1) / _w - (_base + _secStart[O]) / _w;
            _skipS = (int)((_base + _secStart[S]) % _w) / _scaleBytes;
            _skipZ = (int)((_base + _secStart[Z]) % _w);
            _skipO = (int)((_base + _secStart[O]) % _w);
            _skipC = (int)((_base + _secStart[C]) % _w);
            _credit = _w + port.BytesPerCycle;
        }

        /// <summary>Activation rows whose codes this core has read (c_rows), as seen this cycle.</summary>
        public int ReadRows { get; private set; }

        public int OutputCount => _outputs;

        /// <summary>Whether the core's done pulse is high in cycle <paramref name="t"/> or was before.</summary>
        public bool Finished(long t) => t >= _doneCycle;

        public void Start()
        {
            // the start's cycle, then F_SETUP and K_SETUP through set-up counts 0..17: the walk starts 19 cycles on
            _f = F.Setup;
            _k = K.Setup;
            _fSetupLeft = 19;
            ReadRows = 0;
        }

        private static long Ceil(long a, long b) => (a + b - 1) / b;

        public void Step(long t, int qRows, bool granted)
        {
            // ---- combinational: this cycle's decisions from the registers ----
            int outputsNow = _outputs;
            // channel
            bool rvalid = _bursts.Count > 0 && _bursts.Peek().Ready <= t && _credit >= _w;
            int rSection = rvalid ? _bursts.Peek().Section : -1;
            bool rLast = rvalid && _headDone + 1 == _bursts.Peek().Beats;
            // appending: a write a cycle (the port takes every one), its response the latency later
            bool write = _k == K.Append;
            bool bvalid = _responses.Count > 0 && _responses.Peek() <= t;
            int responsesNow = _responses.Count;
            // fetcher
            bool issue = false, secPending = false;
            int len = 0;
            if (_f == F.Walk)
            {
                long tgt = Ceil(_base + _blkEnd[_fsec], _w);
                secPending = _secOn[_fsec] && _nxt[_fsec] < tgt;
                if (secPending)
                {
                    long to4k = 4096 / _w - (_nxt[_fsec] & (4096 / _w - 1));
                    len = (int)Math.Min(Math.Min(tgt - _nxt[_fsec], _d.MaxBurst), to4k);
                    issue = _outstanding < MatrixCoreDesign.Outstanding && _reserved[_fsec] + len <= _cap[_fsec];
                }
            }
            // consumer
            bool fire = false, cPush = false, oPush = false, popS = false, popZ = false, groupFirst = false, groupLast = false, rowLast = false, setLast = false;
            int take = 0, itake = 0, cnt = 0, gend = 0;
            bool readerActive = _k is K.Run or K.Wait;
            if (_k == K.Run)
            {
                gend = Math.Min(_gstart + _glen, _o.K);
                cnt = Math.Min(_spanCap, gend - _col);
                int kept = _sparse ? cnt >> 1 : cnt;
                take = kept * _bits / 8;
                itake = _sparse ? kept * _mlog / 8 : 0;
                groupFirst = _col == _gstart;
                groupLast = _col + cnt == gend;
                rowLast = groupLast && _gi + 1 == _groups;
                setLast = rowLast && _j + 1 == _rows;
                fire = _cv >= take && (!_sparse || _ov >= itake) && (!groupLast || _present[S] > 0) && (!groupFirst || !_asym || _present[Z] > 0)
                    && !(_col == 0 && _gi == 0 && _outputs > 2);
            }
            if (readerActive)
            {
                cPush = _present[C] > 0 && _cIn < _beatsC && _cv - (fire ? take : 0) <= _w;
                oPush = _sparse && _present[O] > 0 && _oIn < _beatsO && _ov - (fire ? itake : 0) <= _w;
            }
            int perS = _w / _scaleBytes;
            if (fire && groupLast) popS = _se + 1 == perS || setLast;
            if (fire && groupFirst && _asym) popZ = _ze + 1 == _w || setLast;
            // output FIFO: this cycle's push (a line of four rows' outputs, or the slice's last) and pop
            bool push = false;
            while (_rowOutputs.Count > 0 && _rowOutputs.Peek().Cycle == t)
            {
                var (_, word, last) = _rowOutputs.Dequeue();
                push |= word % 4 == 3 || last;
            }

            // ---- the edge ----
            // channel: the beat taken, the bucket, the burst accepted
            if (rvalid)
            {
                _credit -= _w;
                _present[rSection]++;
                if (++_headDone == _bursts.Peek().Beats) { _bursts.Dequeue(); _headDone = 0; }
            }
            _credit = Math.Min(_credit + _port.BytesPerCycle, _w + _port.BytesPerCycle);
            if (issue) _bursts.Enqueue((len, t + 1 + _port.LatencyCycles, _fsec));
            if (bvalid) _responses.Dequeue();
            if (write) _responses.Enqueue(t + 1 + _port.LatencyCycles);
            _outstanding += (issue ? 1 : 0) - (rLast ? 1 : 0);
            if (issue) _reserved[_fsec] += len;
            if (cPush) { _reserved[C]--; _present[C]--; }
            if (oPush) { _reserved[O]--; _present[O]--; }
            if (popS) { _reserved[S]--; _present[S]--; }
            if (popZ) { _reserved[Z]--; _present[Z]--; }
            _outputs += (push ? 1 : 0) - (granted ? 1 : 0);

            // fetcher
            switch (_f)
            {
                case F.Setup:
                    if (--_fSetupLeft == 0) _f = _rows == 0 || _o.M == 0 || _o.Mode == ModeAppend ? F.Done : F.Row;
                    break;
                case F.Row:
                    for (int s = 0; s < 4; s++)
                    {
                        _nxt[s] = (_base + _secStart[s]) / _w;
                        _blkEnd[s] = Math.Min(_secStart[s] + (_secRow[s] << _rlog), _secEnd[s]);
                    }
                    _fsec = S;
                    _f = F.Walk;
                    break;
                case F.Walk:
                    if (issue) _nxt[_fsec] += len;
                    else if (!secPending)
                    {
                        if (_fsec != C) _fsec++;
                        else if (!Enumerable.Range(0, 4).All(s => _blkEnd[s] == _secEnd[s]))
                        {
                            long codesEnd = _blkEnd[C];
                            for (int s = 0; s < 4; s++) _blkEnd[s] = Math.Min(_blkEnd[s] + (_secRow[s] << _rlog), _secEnd[s]);
                            if (_strided)
                            {
                                // value codes: the next row place-bytes on, on a beat
                                _blkEnd[C] = codesEnd + _o.PlaceBytes;
                                _nxt[C] = (_base + codesEnd + _o.PlaceBytes - _secRow[C]) / _w;
                            }
                            _fsec = S;
                        }
                        else if (_fr + 1 == _o.M) _f = F.Done;
                        else { _fr++; _f = F.Row; }
                    }
                    break;
            }

            // consumer: scale and zero-point entries, bit readers, then the state
            if (fire && groupLast) _se = popS ? 0 : _se + 1;
            if (fire && groupFirst && _asym) _ze = popZ ? 0 : _ze + 1;
            if (cPush) _cIn++;
            if (oPush) _oIn++;
            if (fire && setLast)
            {
                _cv = 0; _cIn = 0; _ov = 0; _oIn = 0;
            }
            else
            {
                _cv = cPush && _cIn == 1 ? _w - _skipC : _cv - (fire ? take : 0) + (cPush ? _w : 0);
                _ov = oPush && _oIn == 1 ? _w - _skipO : _ov - (fire ? itake : 0) + (oPush ? _w : 0);
            }
            if (fire && rowLast)
                // the row's output leaves the dequantizer a cycle after the chain's sum, into the assembler
                _rowOutputs.Enqueue((t + _d.ChainLatency + 1, _rowWord + _row0 + _j, setLast));
            switch (_k)
            {
                case K.Setup:
                    if (_fSetupLeft == 0)
                    {
                        _kr = 0; _rowWord = _o.RowWord0; _ri = 0;
                        _cv = 0; _ov = 0; _cIn = 0; _oIn = 0;
                        if (_rows == 0 || _o.M == 0) { ReadRows = _o.M; _k = K.Drain; _drain = 0; }
                        else { ReadRows = 0; _k = K.Wait; }
                    }
                    break;
                case K.Wait:
                    if (qRows == _kr + 1)
                    {
                        _j = 0; _gi = 0; _gstart = 0; _col = 0;
                        _se = _skipS; _ze = _skipZ;
                        _writesLeft = _o.AppendWrites;
                        _k = _o.Mode == ModeAppend ? K.Append : K.Run;
                    }
                    break;
                case K.Append:
                    if (--_writesLeft > 0) break;
                    ReadRows = _kr + 1;
                    if (_kr + 1 == _o.M) { _k = K.Drain; _drain = 0; }
                    else { _kr++; _k = K.Wait; }
                    break;
                case K.Run:
                    if (!fire) break;
                    if (!groupLast) _col += cnt;
                    else if (!rowLast) { _col = gend; _gstart = gend; _gi++; }
                    else if (!setLast) { _col = 0; _gstart = 0; _gi = 0; _j++; }
                    else
                    {
                        ReadRows = _kr + 1;
                        if (_ri + 1 == _o.Rgrp) { _ri = 0; _rowWord += _o.OutTok; }
                        else { _ri++; _rowWord += _o.OutStep; }
                        if (_kr + 1 == _o.M) { _k = K.Drain; _drain = 0; }
                        else { _kr++; _k = K.Wait; }
                    }
                    break;
                case K.Drain:
                    if (_drain != _d.DrainCycles) _drain++;
                    else if (outputsNow == 0 && responsesNow == 0) { _doneCycle = t + 1; _k = K.Done; }
                    break;
                case K.Done:
                    _k = K.Idle;
                    break;
            }
        }
    }
}
