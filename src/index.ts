/**
 * sbertkit as a library: everything the commands use, without oclif.
 *
 *   const spec = await resolveModel('sentence-transformers/all-MiniLM-L6-v2');
 *   const encoder = await Encoder.load(spec);
 *   const vectors = await encoder.embed(['a sentence', 'another one']);
 */
export {SbertkitError, EXIT} from './errors.js';

// encoder
export {Encoder, ENCODER_DEFAULTS} from './encoder/encoder.js';
export type {EncoderOptions, EncodeStats, SentenceEncoder} from './encoder/types.js';
export {planBatches, type BatchLimits} from './encoder/batching.js';
export {poolTokens, l2Normalize} from './encoder/pooling.js';

// models
export type {ModelSpec, PoolingMode} from './models/spec.js';
export {readModelSpec, type ReadSpecOptions} from './models/read-spec.js';
export {resolveModel, type ResolveModelOptions} from './models/resolve.js';
export {DEFAULT_MODEL, BUILTIN_MODELS, ensureBuiltinModel} from './models/builtin/index.js';
export {resolveHubModel, parseHubId, listCachedModels, type DownloadProgress} from './models/hub/index.js';
export {sbertkitCacheDir} from './models/cache-dir.js';

// io
export type {Row, TextRecord} from './io/text/types.js';
export type {VectorRecord, VectorFileMetadata} from './io/vectors/types.js';
export type {TextFormat, VectorFormat} from './io/formats.js';
export {openRows, requireColumn} from './io/text/read-rows.js';
export {openTexts} from './io/text/read-texts.js';
export {openVectors} from './io/vectors/read-vectors.js';
export {openVectorWriter, type VectorWriter} from './io/vectors/write-vectors.js';
export {openRowWriter} from './io/rows/write-rows.js';
export {openOutput} from './io/output/atomic-output.js';
export {readStsDataset, readStsDatasets, type StsDataset} from './io/sts/read-sts.js';
export {renderStsReport, type ReportFormat} from './eval/render-sts-report.js';

// algorithms and evaluation
export {pearson, spearman, averageRanks, stsMetrics, cosine, dot, negEuclidean, negManhattan} from './algorithms/sts-metrics.js';
export {evaluateSts} from './eval/evaluate-sts.js';
export {checkMinSpearman, checkBaseline} from './eval/sts-gates.js';
export type {StsReport} from './eval/sts-report.js';

// pipelines
export {encodeToVectorFile, openEncodeSource, type EncodeFileOptions} from './pipelines/encode-file.js';
