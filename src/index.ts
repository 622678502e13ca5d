/**
 * sbertkit as a library: everything the commands use, without oclif.
 *
 *   const spec = await resolveModel('sentence-transformers/all-MiniLM-L6-v2');
 *   const encoder = await Encoder.load(spec);
 *   const {vectors, stats} = await encoder.embed(['a sentence', 'another one']);
 *   vectors.row(0); // Float32Array view of the first embedding
 *
 * Folders (see README "Architecture"): encoder/, models/, io/ (input, output, text, sts, vectors,
 * rows, report), vectors/, algorithms/, eval/, pipelines/; cli/ is the oclif glue and is not exported.
 */
export {SbertkitError, EXIT} from './errors.js';

// vectors
export {VectorMatrix, type RowId} from './vectors/matrix.js';
export {MatrixBuilder} from './vectors/matrix-builder.js';
export {METRICS, similarity, type Metric} from './vectors/metric.js';
export {exactSearch, type ExactSearchOptions} from './vectors/exact-search.js';
export {searchTopK, type SearchOptions, type SearchBackend} from './vectors/search.js';
export {AnnIndex} from './vectors/ann-index.js';
export {TopK} from './vectors/top-k.js';
export {BitMatrix, packSigns, unpackSigns} from './vectors/packed-bits.js';
export {PRECISIONS, RangeTracker, VectorQuantizer, vectorDecoder, type Precision, type QuantizationRanges} from './vectors/quantize.js';
export {hammingSearch, hammingScore, type HammingSearchOptions} from './vectors/hamming-search.js';

// encoder
export {Encoder, ENCODER_DEFAULTS} from './encoder/encoder.js';
export {addStats, emptyStats} from './encoder/types.js';
export type {EncoderOptions, EncodeStats, Embeddings, EmbeddedChunk, EmbedStreamOptions, SentenceEncoder} from './encoder/types.js';
export {planBatches, type BatchLimits} from './encoder/batching.js';
export {poolTokens, l2Normalize} from './encoder/pooling.js';

// models
export type {ModelSpec, PoolingMode} from './models/spec.js';
export {readModelSpec, type ReadSpecOptions} from './models/read-spec.js';
export {resolveModel, type ResolveModelOptions} from './models/resolve.js';
export {DEFAULT_MODEL, BUILTIN_MODELS, ensureBuiltinModel} from './models/builtin/index.js';
export {resolveHubModel, parseHubId, listCachedModels, type DownloadProgress} from './models/hub/index.js';
export {sbertkitCacheDir} from './models/cache-dir.js';

// io (the folder's own index lists its parts)
export * from './io/index.js';

// algorithms and evaluation
export {pearson, spearman, averageRanks, stsMetrics, cosine, dot, negEuclidean, negManhattan} from './algorithms/sts-metrics.js';
export {minePairs, type MinedPairs} from './algorithms/paraphrase-mining.js';
export {communityDetection} from './algorithms/community.js';
export {sphericalKMeans, kMeansPlusPlus} from './algorithms/kmeans.js';
export {nearNeighbours, sampleRecall, type NeighbourLists, type NeighbourOptions, type NeighbourBackend} from './algorithms/neighbour-lists.js';
export {decide, exactRepresentatives, keepOrder, KEEP_POLICIES, type KeepPolicy, type DedupeDecisions, type DedupeInputs} from './algorithms/dedupe/decide.js';
export {normalizeText} from './algorithms/dedupe/normalize.js';
export {evaluateSts, type StsEvaluation} from './eval/evaluate-sts.js';
export {checkMinSpearman, checkBaseline} from './eval/sts-gates.js';
export {renderStsReport, type ReportFormat} from './eval/render-sts-report.js';
export type {StsReport} from './eval/sts-report.js';

// pipelines
export {quietServices, type PipelineServices, type Progress} from './pipelines/context.js';
export {runEncode, encodeToVectorFile, openEncodeSource, type EncodeOptions, type EncodeResult} from './pipelines/encode.js';
export {runEncodeShard, runEncodeTask, type EncodeShardResult, type ShardExpectations} from './pipelines/encode-shard.js';
export {runEvalSts, readBaselineReport, type EvalStsOptions, type EvalStsResult} from './pipelines/eval-sts.js';
export {listModels, describeModel, type ModelsResult, type ModelInfo} from './pipelines/models.js';
export {loadVectors, type LoadedVectors} from './pipelines/vector-input.js';
export {runSimilarity, type PairsOptions, type SearchOptions as SimilaritySearchOptions, type SimilarityResult} from './pipelines/similarity.js';
export {runMineParaphrases, type MineOptions, type MineResult} from './pipelines/mine-paraphrases.js';
export {runCluster, type ClusterOptions, type ClusterResult} from './pipelines/cluster.js';
export {runDedupe, type DedupeOptions, type DedupeResult} from './pipelines/dedupe/run.js';
export {runQuantize, type QuantizeOptions, type QuantizeResult} from './pipelines/quantize/run.js';

// onnx graph rewriting
export {quantizeDynamic, type DynamicQuantizeOptions, type DynamicQuantizeReport} from './onnx/quantize.js';
export {decodeModel, encodeModel} from './onnx/model-proto.js';
